{#- Grain: one row per client with at least one previous application (sk_id_curr). All /
    approved / refused / latest / 12-month / running splits by FILTER, in two passes over the
    enriched applications built as their own tables (int_previous_applications_aggregated_pass_*),
    joined here (specs: previous_application_features()). A table, as the other client-grain
    aggregates: the what-if scoring reads one client's row of it (models_ml.feature_sql). -#}
{%- set features = previous_application_features() if execute else [] -%}
with

aggregated as (
    {{ join_passes([ref('int_previous_applications_aggregated_pass_1'),
                    ref('int_previous_applications_aggregated_pass_2')]) }}
),

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

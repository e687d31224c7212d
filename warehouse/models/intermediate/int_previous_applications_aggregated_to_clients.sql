{#- Grain: one row per client with at least one previous application (sk_id_curr). All /
    approved / refused / latest / 12-month / running splits by FILTER, in two passes over the
    enriched applications: pass 1 is its own table (int_previous_applications_aggregated_pass_1),
    pass 2 is aggregated here and joined to it, so one hash aggregate's states are in memory at
    a time and pass 2's half is written once, in this table (specs:
    previous_application_features()). A table, as the other client-grain aggregates: the
    what-if scoring reads one client's row of it (models_ml.feature_sql). -#}
{%- set features = previous_application_features() if execute else [] -%}
with

pass_2 as (
    {{ aggregation_pass_model(features, ref('int_previous_applications_enriched'), 2, 2) }}
),

aggregated as (
    {{ join_passes([ref('int_previous_applications_aggregated_pass_1'), 'pass_2']) }}
),

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

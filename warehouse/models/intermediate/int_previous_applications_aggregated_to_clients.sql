{#- Grain: one row per client with at least one previous application (sk_id_curr). All /
    approved / refused / latest / 12-month / running splits by FILTER, in a few narrow passes
    over the enriched applications (specs: previous_application_features()). -#}
{%- set features = previous_application_features() if execute else [] -%}
with

previous_applications as materialized (
    -- computed once (window, Newton steps) and read by each aggregation pass
    select * from {{ ref('int_previous_applications_enriched') }}
),

{{ aggregate_in_passes(features, 'previous_applications') }},

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

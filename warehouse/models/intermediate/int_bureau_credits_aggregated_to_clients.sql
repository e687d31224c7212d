{#- Grain: one row per client with at least one Credit Bureau credit (sk_id_curr). All / active
    / closed / recent splits by FILTER, no per-split scans (specs: bureau_features()).
    Runs after the previous-application aggregates (the depends_on below, not read): its ~125
    aggregate states per client beside pass 2's ~128 took the marts build over 3 GB of RSS
    (3,163 MiB at full scale), one after the other it peaks at client_features (~2,750 MiB), in
    the same time (README "Twelfth measurement"). -#}
{%- set features = bureau_features() if execute else [] -%}
-- depends_on: {{ ref('int_previous_applications_aggregated_to_clients') }}
with

credits as (
    select * from {{ ref('stg_homecredit__bureau_credits') }}
),

balance_histories as (
    select * from {{ ref('int_bureau_balances_aggregated_to_bureau_credits') }}
),

credits_with_history as (
    -- at most one history row per credit: no fan-out
    select
        credits.*,
        balance_histories.* exclude (sk_id_bureau)
    from credits
    left join balance_histories on credits.sk_id_bureau = balance_histories.sk_id_bureau
),

{{ aggregate_in_passes(features, 'credits_with_history') }},

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

{#- Grain: one row per client with at least one Credit Bureau credit (sk_id_curr). All / active
    / closed / recent splits by FILTER, no per-split scans (specs: bureau_features()). -#}
{%- set features = bureau_features() if execute else [] -%}
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

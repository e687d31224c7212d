{#- Grain: one row per client with POS/cash balances (sk_id_curr). One scan; windows by
    FILTER (specs: pos_cash_features()). -#}
{%- set features = pos_cash_features() if execute else [] -%}
with

balances as (
    select * from {{ ref('stg_homecredit__pos_cash_balances') }}
),

{{ aggregate_in_passes(features, 'balances') }},

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

{#- Grain: one row per client with credit card balances (sk_id_curr). The 12-month
    window by FILTER, no scan per window (specs: credit_card_features()). -#}
{%- set features = credit_card_features() if execute else [] -%}
with

balances as (
    select * from {{ ref('stg_homecredit__credit_card_balances') }}
),

measured as (
    select
        *,
        amt_balance / nullif(amt_credit_limit_actual, 0) as utilization,
        amt_payment_total_current / nullif(amt_inst_min_regularity, 0) as payment_min_ratio
    from balances
),

{{ aggregate_in_passes(features, 'measured') }}

select * from aggregated

{#- Grain: one row per client with instalment payments (sk_id_curr). The kernel's per-row
    measures, then one aggregation pass with the 12-month window by FILTER
    (specs: installment_features()). -#}
{%- set features = installment_features() if execute else [] -%}
with

payments as (
    select * from {{ ref('stg_homecredit__installment_payments') }}
),

measured as (
    select
        *,
        amt_payment / nullif(amt_instalment, 0) as payment_perc,
        amt_instalment - amt_payment as payment_diff,
        {{ clip_lower('days_entry_payment - days_instalment') }} as dpd,
        {{ clip_lower('days_instalment - days_entry_payment') }} as dbd
    from payments
),

{{ aggregate_in_passes(features, 'measured') }},

derived as (
    select
        *,
        {{ feature_select_list(features, 'post') }}
    from aggregated
)

select * from derived

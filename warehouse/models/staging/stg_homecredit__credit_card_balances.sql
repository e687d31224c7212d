{#- Grain: one row per previous credit card and month (sk_id_prev, months_balance). -#}
with

credit_card_balance as (
    select * from {{ source('homecredit', 'credit_card_balance') }}
),

staged as (
    select
        {{ hc_stage_columns('credit_card_balance') }}
    from credit_card_balance
)

select * from staged

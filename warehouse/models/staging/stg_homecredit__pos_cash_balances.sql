{#- Grain: one row per previous POS/cash loan and month (sk_id_prev, months_balance). -#}
with

pos_cash_balance as (
    select * from {{ source('homecredit', 'pos_cash_balance') }}
),

staged as (
    select
        {{ hc_stage_columns('pos_cash_balance') }}
    from pos_cash_balance
)

select * from staged

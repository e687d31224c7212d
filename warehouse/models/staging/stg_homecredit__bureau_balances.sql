{#- Grain: one row per Credit Bureau credit and month (sk_id_bureau, months_balance). -#}
with

bureau_balance as (
    select * from {{ source('homecredit', 'bureau_balance') }}
),

staged as (
    select
        {{ hc_stage_columns('bureau_balance') }}
    from bureau_balance
)

select * from staged

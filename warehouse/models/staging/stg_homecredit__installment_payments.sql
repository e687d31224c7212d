{#- Grain: one row per payment of an instalment of a previous loan; an instalment paid in
    several parts has several rows, so (sk_id_prev, num_instalment_number) repeats. -#}
with

installments_payments as (
    select * from {{ source('homecredit', 'installments_payments') }}
),

staged as (
    select
        {{ hc_stage_columns('installments_payments') }}
    from installments_payments
)

select * from staged

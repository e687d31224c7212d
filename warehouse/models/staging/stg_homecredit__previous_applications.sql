{#- Grain: one row per previous Home Credit application (sk_id_prev). -#}
with

previous_application as (
    select * from {{ source('homecredit', 'previous_application') }}
),

staged as (
    select
        {{ hc_stage_columns('previous_application') }}
    from previous_application
)

select * from staged

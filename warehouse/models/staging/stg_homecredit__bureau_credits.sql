{#- Grain: one row per Credit Bureau credit (sk_id_bureau). -#}
with

bureau as (
    select * from {{ source('homecredit', 'bureau') }}
),

staged as (
    select
        {{ hc_stage_columns('bureau') }}
    from bureau
)

select * from staged

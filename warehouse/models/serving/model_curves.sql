{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per curve and point (curve, point) of the champion, from its out-of-fold
    predictions: 'roc' (x = false positive rate, y = true positive rate), 'calibration'
    (x = mean predicted probability of a ventile, y = observed default rate), 'cost'
    (x = probability threshold, y = expected cost per client in false-positive units). -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

curves as (
    select * from {{ source('ml', 'model_curves') }}
),

final as (
    select
        curves.model_version,
        curves.curve,
        curves.point,
        curves.x,
        curves.y
    from curves
    inner join champion on curves.model_version = champion.model_version
)

select * from final
order by curve, point

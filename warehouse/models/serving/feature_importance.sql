{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per feature of the champion model (feature_name). -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

importance as (
    select * from {{ source('ml', 'feature_importance') }}
),

final as (
    select
        importance.model_version,
        importance.feature_name,
        importance.mean_abs_shap,
        importance.gain,
        importance.rank
    from importance
    inner join champion on importance.model_version = champion.model_version
)

select * from final
order by rank

{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per client and rank (sk_id_curr, rank): the champion's 20 largest SHAP
    contributions of each client. -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

drivers as (
    select * from {{ source('ml', 'client_drivers') }}
),

final as (
    select
        drivers.sk_id_curr,
        drivers.model_version,
        drivers.rank,
        drivers.feature_name,
        drivers.feature_label,
        drivers.family,
        drivers.feature_value,
        drivers.shap_value,
        drivers.points
    from drivers
    inner join champion on drivers.model_version = champion.model_version
)

select * from final
order by sk_id_curr, rank

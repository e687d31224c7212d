{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per client and feature family (sk_id_curr, family): every SHAP contribution
    of the champion summed per family, so base points + family points = score. -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

families as (
    select * from {{ source('ml', 'client_families') }}
),

final as (
    select
        families.sk_id_curr,
        families.model_version,
        families.family,
        families.family_label,
        families.shap_value,
        families.points
    from families
    inner join champion on families.model_version = champion.model_version
)

select * from final
order by sk_id_curr, family

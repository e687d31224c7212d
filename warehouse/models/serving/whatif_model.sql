{{ config(schema='serving', materialized='table') }}
{#- Grain: one row, the champion as on-demand scoring needs it (models_ml/whatif.py): booster,
    settings and the pruned feature query of the mart. -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

final as (
    select
        whatif.model_version,
        whatif.model_text,
        whatif.metadata,
        whatif.feature_sql
    from {{ source('ml', 'whatif_model') }} as whatif
    inner join champion on whatif.model_version = champion.model_version
)

select * from final

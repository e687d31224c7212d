{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per client and rank (sk_id_curr, rank): up to four plain-language reasons,
    the feature families that lower the score most, never a protected attribute. -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

reasons as (
    select * from {{ source('ml', 'client_reasons') }}
),

final as (
    select
        reasons.sk_id_curr,
        reasons.model_version,
        reasons.rank,
        reasons.reason_code,
        reasons.reason_text,
        reasons.points
    from reasons
    inner join champion on reasons.model_version = champion.model_version
)

select * from final
order by sk_id_curr, rank

{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per client (sk_id_curr): the champion's probability, score, decision and
    risk band. -#}
with

champion as (
    select model_version from {{ source('ml', 'model_runs') }} where is_champion
),

scores as (
    select * from {{ source('ml', 'client_scores') }}
),

final as (
    select
        scores.sk_id_curr,
        scores.model_version,
        scores.probability_default,
        scores.score,
        scores.decision,
        scores.threshold,
        scores.score_cutoff,
        scores.risk_band,
        scores.scored_at
    from scores
    inner join champion on scores.model_version = champion.model_version
)

select * from final
order by sk_id_curr

{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per risk band of the champion: how history clients fared, measured on the
    band their OUT-OF-FOLD prediction puts them in (never the in-sample band of the champion's
    own score, which the model fitted on these very outcomes). The portfolio page reads it. -#}
with oof as (
    select * from {{ source('ml_monitoring', 'monitor_oof_scores') }}
)

select
    model_version,
    risk_band,
    count(*) as history_clients,
    sum(target)::bigint as defaults,
    avg(target::double) as default_rate,
    avg(probability_default) as mean_oof_probability,
    min(score) as min_score,
    max(score) as max_score
from oof
group by model_version, risk_band
order by risk_band

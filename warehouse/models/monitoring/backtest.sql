{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per cohort (model_version, as_of) × risk band: the probabilities given when
    the clients were pending against the outcomes that arrived since
    (models_ml/monitoring/backtest.py). -#}
select
    model_version,
    as_of,
    refresh_run_id,
    risk_band,
    clients,
    defaults,
    predicted_rate,
    observed_rate,
    jeffreys_p,
    auc,
    flag
from {{ source('ml_monitoring', 'monitor_backtest') }}
order by as_of, risk_band

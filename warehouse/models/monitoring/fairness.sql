{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per model × attribute × group (models_ml/monitoring/fairness.py, from the
    champion's out-of-fold predictions). -#}
select
    model_version,
    attribute,
    "group",
    clients,
    refusal_rate,
    default_rate_granted,
    tpr,
    fpr,
    auc,
    grant_rate_ratio,
    demographic_parity_ratio,
    equalized_odds_difference,
    flag
from {{ source('ml_monitoring', 'monitor_fairness') }}
order by attribute, "group"

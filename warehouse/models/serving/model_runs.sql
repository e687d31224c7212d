{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per registered model version (model_version), champion or not. The
    CONTRACTS §3 columns first, then what the model page and the API's /model need: score
    scaling, base value, calibration, the champion guard's decision. -#}
with

runs as (
    select * from {{ source('ml', 'model_runs') }}
),

final as (
    select
        model_version,
        trained_at,
        is_champion,
        n_train,
        n_features,
        oof_auc,
        fold_auc_mean,
        fold_auc_std,
        brier,
        log_loss,
        ks,
        threshold,
        expected_cost,
        params,
        score_cutoff,
        "precision",
        recall,
        refusal_rate,
        default_rate,
        n_trees,
        cost_fn_fp,
        calibration_method,
        calibration_a,
        calibration_b,
        base_value,
        base_points,
        score_offset,
        score_factor,
        score_points,
        score_odds,
        score_pdo,
        data_fingerprint,
        champion_since,
        champion_decision
    from runs
)

select * from final
order by trained_at, model_version

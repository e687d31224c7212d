{{ config(schema='serving', materialized='table') }}
{#- Grain: one row per refresh run × reference × feature (the score is feature 'score').
    This run's PSI (macro psi) against the champion's training population and against the
    previous published refresh's pending clients, then the rows of earlier runs kept in
    PAD_HOME/history/ (loaded into ml.monitor_drift_history), for trends. -#}
with

run as (
    select * from {{ source('ml_monitoring', 'monitor_run') }}
),

feature_values as (
    select * from {{ source('ml_monitoring', 'monitor_feature_values') }}
),

training_population as (
    select feature_name, value from feature_values where population = 'training'
),

pending_now as (
    select feature_name, value from feature_values where population = 'current'
),

previous_refresh as (
    select feature_name, value from {{ source('ml_monitoring', 'monitor_previous_values') }}
    where feature_name in (select feature_name from pending_now)
),

ranks as (
    select distinct feature_name, feature_rank from feature_values
),

against_training as {{ psi('training_population', 'pending_now') }},

against_previous as {{ psi('previous_refresh', 'pending_now') }},

this_run as (
    select 'training' as reference, * from against_training
    union all
    select 'previous_refresh' as reference, * from against_previous
),

final as (
    select
        run.refresh_run_id,
        this_run.reference,
        this_run.feature_name,
        ranks.feature_rank,
        this_run.psi,
        {{ psi_flag('this_run.psi') }} as flag,
        this_run.reference_clients,
        this_run.current_clients,
        run.computed_at
    from this_run
    cross join run
    inner join ranks on this_run.feature_name = ranks.feature_name
    union all by name
    select * from {{ source('ml_monitoring', 'monitor_drift_history') }}
    where refresh_run_id not in (select refresh_run_id from run)
)

select * from final
order by computed_at, refresh_run_id, reference, feature_rank

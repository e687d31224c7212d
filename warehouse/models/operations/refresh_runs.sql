{{ config(materialized='view', schema='serving') }}
-- A view, not a table: it reads PAD_HOME/runs/*.json when queried, so runs that failed (and
-- therefore published nothing) still show up to readers of the published warehouse.
with runs as (
    select *
    from read_json(
        '{{ env_var("PAD_HOME", "data") }}/runs/*.json',
        format = 'auto',
        union_by_name = true,
        columns = {
            run_id: 'varchar', raw: 'varchar', started_at: 'timestamptz',
            finished_at: 'timestamptz', status: 'varchar', retrained: 'boolean',
            published: 'boolean', model_version: 'varchar', clients: 'bigint',
            rows_loaded: 'bigint', fingerprint: 'varchar', message: 'varchar',
            {%- for step in ['validate_load', 'dbt_marts', 'train', 'score', 'monitor', 'recourse', 'dbt_serving', 'publish', 'history', 'total'] %}
            seconds_{{ step }}: 'double'{{ "," if not loop.last }}
            {%- endfor %}
        }
    )
)

select
    run_id,
    started_at,
    finished_at,
    status,
    retrained,
    published,
    model_version,
    clients,
    rows_loaded,
    seconds_validate_load,
    seconds_dbt_marts,
    seconds_train,
    seconds_score,
    seconds_monitor,
    seconds_recourse,
    seconds_dbt_serving,
    seconds_publish,
    seconds_history,
    seconds_total,
    message,
    raw as raw_source,
    fingerprint as input_fingerprint
from runs

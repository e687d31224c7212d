{{ config(materialized='view', schema='serving') }}
-- A view, not a table: it reads PAD_HOME/alerts/*.json when queried (like refresh_runs), so the
-- alert of a refresh that failed and published nothing still reaches the dashboard banner.
-- warehouse.alerts keeps an empty marker file (.none.json, `[]`) in the folder because
-- DuckDB refuses a glob that matches nothing.
with alerts as (
    select *
    from read_json(
        '{{ env_var("PAD_HOME", "data") }}/alerts/*.json',
        format = 'auto',
        union_by_name = true,
        columns = {
            alert_id: 'varchar', raised_at: 'timestamptz', kind: 'varchar', severity: 'varchar',
            message: 'varchar', refresh_run_id: 'varchar', details: 'json', webhook: 'varchar'
        }
    )
)

select
    alert_id,
    raised_at,
    kind,
    severity,
    message,
    refresh_run_id,
    details,
    webhook as webhook_delivery
from alerts

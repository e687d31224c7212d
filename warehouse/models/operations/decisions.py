"""serving.decisions — grain: one row per entry of the decision log (entry_id).

A read-only copy of the decision store (CONTRACTS §7: $PAD_HOME/decisions.sqlite or
PAD_DECISIONS_URL) taken at this refresh. The store is opened read-only (SQLite `mode=ro`,
PostgreSQL READ ONLY transactions): the refresh never changes its schema, triggers or rows. The
copy is taken even when the hash chain is broken (the refresh then raises a `decision_chain`
alert); an empty store, or none yet, gives an empty table with the same columns.
"""
from warehouse.config import pad_paths
from warehouse.decisions.export import log_table
from warehouse.decisions.store import read_log


def model(dbt, session):
    dbt.config(materialized="table", schema="serving", tags=["decisions"])
    return log_table(read_log(pad_paths()))

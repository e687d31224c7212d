"""Schema `ml` of the build warehouse: table definitions and bulk writes.

This module owns the `ml.*` tables (declared as a dbt source in
warehouse/models/serving/_ml__sources.yml, where every column is described):

per client (the champion's scores, rebuilt by each scoring run)
  ml.client_scores      sk_id_curr, model_version, probability_default, score, decision,
                        threshold, score_cutoff, risk_band, scored_at, log_odds, base_value,
                        feature_hash
  ml.client_drivers     sk_id_curr, model_version, rank, feature_name, feature_label, family,
                        feature_value, shap_value, points
  ml.client_families    sk_id_curr, model_version, family, family_label, shap_value, points
  ml.client_reasons     sk_id_curr, model_version, rank, reason_code, reason_text, family, points
per model version (rebuilt from the registry)
  ml.model_runs, ml.model_curves, ml.feature_importance, ml.oof_predictions (champion only)
per feature
  ml.feature_dictionary

Writes go from Arrow to DuckDB in bulk (one INSERT per chunk). Client tables are built under a
`__next` name and swapped in one transaction, so a failed run never leaves a mix of old and new
rows, and the previous rows stay readable while the new ones are computed (incremental reuse).
"""
from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd

from models_ml.explain import ChunkOutput
from models_ml.families import FAMILY_BY_CODE
from models_ml.registry import ModelRecord, read_oof

SCHEMA = "ml"

CLIENT_TABLES: dict[str, str] = {
    "client_scores": """
        sk_id_curr bigint not null, model_version varchar not null,
        probability_default double not null, score integer not null, decision varchar not null,
        threshold double not null, score_cutoff integer not null, risk_band varchar not null,
        scored_at timestamp not null, log_odds double not null, base_value double not null,
        feature_hash ubigint not null""",
    "client_drivers": """
        sk_id_curr bigint not null, model_version varchar not null, rank integer not null,
        feature_name varchar not null, feature_label varchar not null, family varchar not null,
        feature_value double, shap_value double not null, points double not null""",
    "client_families": """
        sk_id_curr bigint not null, model_version varchar not null, family varchar not null,
        family_label varchar not null, shap_value double not null, points double not null""",
    "client_reasons": """
        sk_id_curr bigint not null, model_version varchar not null, rank integer not null,
        reason_code varchar not null, reason_text varchar not null, family varchar not null,
        points double not null""",
}
NEXT = "__next"

MODEL_TABLES: dict[str, str] = {
    "model_runs": """
        model_version varchar not null, trained_at timestamp not null, is_champion boolean not null,
        n_train integer not null, n_features integer not null, oof_auc double not null,
        fold_auc_mean double not null, fold_auc_std double not null, brier double not null,
        log_loss double not null, ks double not null, threshold double not null,
        expected_cost double not null, params json not null, score_cutoff integer not null,
        "precision" double not null, recall double not null, refusal_rate double not null,
        default_rate double not null, n_trees integer not null, cost_fn_fp double not null,
        calibration_method varchar not null, calibration_a double not null,
        calibration_b double not null, base_value double not null, base_points double not null,
        score_offset double not null, score_factor double not null, score_points double not null,
        score_odds double not null, score_pdo double not null, data_fingerprint varchar not null,
        champion_since timestamp, champion_decision varchar""",
    "model_curves": """
        model_version varchar not null, curve varchar not null, point integer not null,
        x double not null, y double not null""",
    "feature_importance": """
        model_version varchar not null, feature_name varchar not null, feature_label varchar,
        family varchar not null, mean_abs_shap double not null, gain double not null,
        split_count integer not null, rank integer not null""",
    "feature_dictionary": """
        feature_name varchar not null, feature_label varchar not null, family varchar not null,
        family_label varchar not null, description varchar, source_table varchar,
        source_column varchar, aggregation varchar, split_or_window varchar,
        in_model boolean not null, excluded boolean not null""",
    "oof_predictions": """
        model_version varchar not null, sk_id_curr bigint not null, fold integer not null,
        target integer not null, probability_default double not null""",
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")


def create_next_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty `ml.<table>__next` tables for a scoring run."""
    ensure_schema(con)
    for name, columns in CLIENT_TABLES.items():
        con.execute(f"create or replace table {SCHEMA}.{name}{NEXT} ({columns})")


def insert_chunk(con: duckdb.DuckDBPyConnection, output: ChunkOutput, hashes_table: str) -> None:
    """Append one chunk's outputs; scores get their feature-row hash from `hashes_table`."""
    for name, table in (("client_scores", output.scores), ("client_drivers", output.drivers),
                        ("client_families", output.families),
                        ("client_reasons", output.reasons)):
        con.register("_chunk", table)
        if name == "client_scores":
            con.execute(f"insert into {SCHEMA}.{name}{NEXT} by name "
                        f"select c.*, h.feature_hash from _chunk c "
                        f"join {hashes_table} h using (sk_id_curr)")
        else:
            con.execute(f"insert into {SCHEMA}.{name}{NEXT} by name select * from _chunk")
        con.unregister("_chunk")


def copy_reused(con: duckdb.DuckDBPyConnection, source_schema: str, reuse_table: str) -> None:
    """Copy the rows of unchanged clients (ids in `reuse_table`) from a previous `ml` schema."""
    for name in CLIENT_TABLES:
        columns = ", ".join(_column_names(con, f"{SCHEMA}.{name}{NEXT}"))
        con.execute(f"insert into {SCHEMA}.{name}{NEXT} ({columns}) select {columns} "
                    f"from {source_schema}.{name} "
                    f"where sk_id_curr in (select sk_id_curr from {reuse_table})")


def swap_next_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the client tables by their `__next` versions in one transaction."""
    con.execute("begin transaction")
    try:
        for name in CLIENT_TABLES:
            con.execute(f"drop table if exists {SCHEMA}.{name}")
            con.execute(f"alter table {SCHEMA}.{name}{NEXT} rename to {name}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def drop_next_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in CLIENT_TABLES:
        con.execute(f"drop table if exists {SCHEMA}.{name}{NEXT}")


def table_exists(con: duckdb.DuckDBPyConnection, catalog: str | None, schema: str,
                 table: str) -> bool:
    database = f"and table_catalog = '{catalog}'" if catalog else ""
    return con.execute(
        "select count(*) from information_schema.tables "
        f"where table_schema = ? and table_name = ? {database}", [schema, table]
    ).fetchall()[0][0] > 0


def _column_names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"describe {table}").fetchall()]


def replace_model_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """`ml.<name>` (a model-level table, typed by MODEL_TABLES) := frame, in bulk."""
    ensure_schema(con)
    con.execute(f"create or replace table {SCHEMA}.{name} ({MODEL_TABLES[name]})")
    if len(frame):
        con.register("_frame", frame)
        con.execute(f"insert into {SCHEMA}.{name} by name select * from _frame")
        con.unregister("_frame")


# --- model-level tables -------------------------------------------------------------------------

def model_runs_frame(records: list[ModelRecord], champion: ModelRecord | None) -> pd.DataFrame:
    """One row per registered version (serving.model_runs columns first, then extras)."""
    rows = []
    for r in records:
        m, meta = r.metadata["metrics"], r.metadata
        scaling = meta["score_scaling"]
        rows.append({
            "model_version": r.version,
            "trained_at": pd.Timestamp(meta["trained_at"]).tz_convert("UTC").tz_localize(None),
            "is_champion": champion is not None and r.version == champion.version,
            "n_train": int(meta["n_train"]), "n_features": len(meta["features"]),
            "oof_auc": m["oof_auc"], "fold_auc_mean": m["fold_auc_mean"],
            "fold_auc_std": m["fold_auc_std"], "brier": m["brier"], "log_loss": m["log_loss"],
            "ks": m["ks"], "threshold": float(meta["threshold"]),
            "expected_cost": m["expected_cost"],
            "params": json.dumps(meta["params"], sort_keys=True),
            "score_cutoff": int(meta["score_cutoff"]), "precision": m["precision"],
            "recall": m["recall"], "refusal_rate": m["refusal_rate"],
            "default_rate": m["default_rate"], "n_trees": int(meta["n_trees"]),
            "cost_fn_fp": float(meta["params"]["cost_fn_fp"]),
            "calibration_method": meta["calibration"]["method"],
            "calibration_a": float(meta["calibration"]["a"]),
            "calibration_b": float(meta["calibration"]["b"]),
            "base_value": float(meta["base_value"]),
            "base_points": float(scaling["offset"]) - float(scaling["factor"])
            * float(meta["base_value"]),
            "score_offset": float(scaling["offset"]), "score_factor": float(scaling["factor"]),
            "score_points": float(scaling["points"]), "score_odds": float(scaling["odds"]),
            "score_pdo": float(scaling["pdo"]),
            "data_fingerprint": meta["data_fingerprint"],
            "champion_since": pd.Timestamp(meta["champion_since"]).tz_convert("UTC")
            .tz_localize(None) if meta.get("champion_since") else pd.NaT,
            "champion_decision": meta.get("champion_decision", ""),
        })
    return pd.DataFrame(rows)


def model_curves_frame(records: list[ModelRecord]) -> pd.DataFrame:
    parts = []
    for r in records:
        for curve, points in r.metadata["curves"].items():
            parts.append(pd.DataFrame({
                "model_version": r.version, "curve": curve,
                "point": np.arange(1, len(points["x"]) + 1, dtype=np.int32),
                "x": np.asarray(points["x"], dtype=np.float64),
                "y": np.asarray(points["y"], dtype=np.float64)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def feature_importance_frame(records: list[ModelRecord], catalog: pd.DataFrame) -> pd.DataFrame:
    labels = dict(zip(catalog["feature_name"], catalog["feature_label"], strict=True))
    families = dict(zip(catalog["feature_name"], catalog["family"], strict=True))
    parts = []
    for r in records:
        imp = pd.DataFrame(r.metadata["importance"])
        imp = imp.sort_values(["mean_abs_shap", "gain", "feature_name"],
                              ascending=[False, False, True]).reset_index(drop=True)
        imp.insert(0, "model_version", r.version)
        imp["rank"] = np.arange(1, len(imp) + 1, dtype=np.int32)
        imp["feature_label"] = imp["feature_name"].map(labels).fillna(imp["feature_name"])
        imp["family"] = [families.get(n) or r.metadata["families"].get(n, "other")
                         for n in imp["feature_name"]]
        parts.append(imp)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def feature_dictionary_frame(catalog: pd.DataFrame, champion: ModelRecord | None,
                             excluded: list[str]) -> pd.DataFrame:
    in_model = set(champion.features) if champion else set()
    frame = catalog[["feature_name", "feature_label", "family", "description", "source_table",
                     "source_column", "aggregation", "split_or_window"]].copy()
    frame.insert(3, "family_label", frame["family"].map(lambda f: FAMILY_BY_CODE[f].label))
    frame["in_model"] = frame["feature_name"].isin(in_model)
    frame["excluded"] = frame["feature_name"].isin(set(excluded))
    return frame


def oof_frame(champion: ModelRecord | None) -> pd.DataFrame:
    if champion is None:
        return pd.DataFrame()
    oof = read_oof(champion)
    oof.insert(0, "model_version", champion.version)
    return oof

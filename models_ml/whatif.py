"""On-demand scoring of edited applications with the champion, exactly as the batch scores.

An *edit* changes one of the application fields a client can change (CONTRACTS §6, `FIELDS`);
age, gender, external scores and all history are not editable. A scored application goes
through the feature SQL of the mart (models_ml.feature_sql: the same staging, application and
cross-table features, the client's published history aggregates) and then through the batch's
own scoring and explanation functions (models_ml.explain), so an unedited application reproduces
the published probability, score, drivers, families and reasons.

Everything the scoring needs is published with the warehouse, in `ml.whatif_model` (exposed as
`serving.whatif_model`): the champion's booster text, its calibration, threshold and scaling,
the features' labels and families, the explanation settings and the pruned feature query. A
reader therefore scores with the model that produced the published scores of the same
snapshot, and never needs PAD_HOME/models. Nothing is written at serve time.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import lightgbm as lgb
import numpy as np
import pyarrow as pa

from i18n import Message
from models_ml.config import ExplainConfig, MlConfig, load_config
from models_ml.explain import ChunkOutput, FeatureInfo, ScoringModel, explain_chunk
from models_ml.feature_sql import (
    CANDIDATES,
    EDITABLE_RAW,
    PointLookup,
    bind_catalog,
    compute_features,
    edited_features,
    feature_query,
    literal_ids,
    point_lookup,
    published_features,
    read_compiled_sql,
)
from models_ml.features import connect, list_feature_columns, model_input, read_catalog
from models_ml.metrics import Calibration, sigmoid
from models_ml.published_columns import load_published_columns
from models_ml.registry import find_champion, get_model, load_scoring_model
from models_ml.scaling import scaling_from_record, scaling_record
from warehouse.errors import RunFailure

MODEL_TABLE = "ml.whatif_model"
SERVING_TABLE = "serving.whatif_model"
NOT_EMPLOYED_DAYS = 365243   # the raw files' DAYS_EMPLOYED sentinel (staged as null)
DAYS_PER_YEAR = 365.25       # as marts.client_profile's years_employed
CONTRACT_TYPES = ("Cash loans", "Revolving loans")
POINT_LOOKUP_IDS = 256       # up to this many clients: input tables filtered by literal ids


@dataclass(frozen=True)
class Field:
    """An editable application field: its JSON key, raw column, kind and bounds (§6)."""

    name: str
    raw_column: str
    kind: str                    # 'amount' | 'count' | 'years' | 'choice' | 'flag'
    low: float | None = None
    high: float | None = None
    label: str = ""


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("credit_amount", "amt_credit", "amount", 1_000, 5_000_000, "Credit amount"),
    Field("annuity", "amt_annuity", "amount", 100, 5_000_000, "Annuity"),
    Field("goods_price", "amt_goods_price", "amount", 0, 50_000_000, "Goods price"),
    Field("income", "amt_income_total", "amount", 1_000, 100_000_000, "Income"),
    Field("years_employed", "days_employed", "years", 0, 60, "Years employed"),
    Field("contract_type", "name_contract_type", "choice", label="Contract type"),
    Field("children", "cnt_children", "count", 0, 20, "Children"),
    Field("family_members", "cnt_fam_members", "count", 1, 21, "Family members"),
    Field("own_car", "flag_own_car", "flag", label="Owns a car"),
    Field("own_realty", "flag_own_realty", "flag", label="Owns real estate"),
)}
CREDIT_MAX_FACTOR = 10       # credit_amount ≤ 10 × the published credit
GOODS_MAX_FACTOR = 10        # goods_price ≤ 10 × credit_amount
assert {f.raw_column for f in FIELDS.values()} == {c for c, _ in EDITABLE_RAW}


EDIT_PROBLEMS = ("not_editable", "credit_max", "annuity_max", "goods_max", "family_members",
                 "null", "bool", "choice", "number", "whole", "range")


def catalogue_codes() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of the edit errors (i18n/pad.cfg extracts them)."""
    return [("error", f"edit_{problem}") for problem in EDIT_PROBLEMS]


class EditError(ValueError):
    """An edit outside its bounds (API: 422); `field` names the offending key. The message is
    coded (catalogue msgctxt `error`, key `edit_<problem>`): English as a str, other languages
    with i18n.localize."""

    def __init__(self, field: str, problem: str, **params: Any) -> None:
        key = f"edit_{problem}"      # catalogue_codes lists them all
        super().__init__(Message("error", key, field=field, **params))
        self.field = field


# --- edits ----------------------------------------------------------------------------------

def to_raw(name: str, value: Any) -> Any:
    """An edited value in human units → the raw file's value of its column."""
    kind = FIELDS[name].kind
    if kind == "years":
        return NOT_EMPLOYED_DAYS if value is None else -round(float(value) * DAYS_PER_YEAR)
    if kind == "flag":
        return "Y" if value else "N"
    if kind == "count":
        return int(value)
    if kind == "choice":
        return str(value)
    return float(value)


def from_raw(name: str, value: Any) -> Any:
    """A raw value → human units (years employed rounded to 0.01 for display only: an
    unedited field is never converted back)."""
    kind = FIELDS[name].kind
    if value is None:
        return None
    if kind == "years":
        return None if value == NOT_EMPLOYED_DAYS else round(-float(value) / DAYS_PER_YEAR, 2)
    if kind == "flag":
        return value == "Y"
    if kind == "count":
        return int(value)
    return value if kind == "choice" else float(value)


def validate_edits(edits: dict[str, Any], published: dict[str, Any]) -> dict[str, Any]:
    """Check every edit against CONTRACTS §6 and the published application (human units);
    returns the effective application (published values with the edits applied)."""
    for name, value in edits.items():
        field = FIELDS.get(name)
        if field is None:
            raise EditError(name, "not_editable")
        _check_value(field, value)
    merged = {**published, **edits}
    credit = merged.get("credit_amount")
    if "credit_amount" in edits and published.get("credit_amount") is not None and \
            edits["credit_amount"] > CREDIT_MAX_FACTOR * published["credit_amount"]:
        raise EditError("credit_amount", "credit_max", factor=CREDIT_MAX_FACTOR,
                        amount=round(CREDIT_MAX_FACTOR * published["credit_amount"]))
    touched = set(edits)
    if touched & {"annuity", "credit_amount"} and None not in (merged.get("annuity"), credit) \
            and merged["annuity"] > credit:
        raise EditError("annuity", "annuity_max", amount=round(credit))
    if touched & {"goods_price", "credit_amount"} and \
            None not in (merged.get("goods_price"), credit) and \
            merged["goods_price"] > GOODS_MAX_FACTOR * credit:
        raise EditError("goods_price", "goods_max", factor=GOODS_MAX_FACTOR)
    if touched & {"family_members", "children"} and \
            None not in (merged.get("family_members"), merged.get("children")) and \
            merged["family_members"] < merged["children"] + 1:
        raise EditError("family_members", "family_members")
    return merged


def _check_value(field: Field, value: Any) -> None:
    if value is None:
        if field.kind != "years":
            raise EditError(field.name, "null")
        return
    if field.kind == "flag":
        if not isinstance(value, bool):
            raise EditError(field.name, "bool")
        return
    if field.kind == "choice":
        if value not in CONTRACT_TYPES:
            raise EditError(field.name, "choice", choices=", ".join(CONTRACT_TYPES))
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value):
        raise EditError(field.name, "number")
    if field.kind == "count" and value != int(value):
        raise EditError(field.name, "whole")
    if not field.low <= value <= field.high:
        raise EditError(field.name, "range", low=field.low, high=field.high)


def candidates_table(keys: np.ndarray, clients: np.ndarray, edits: list[dict[str, Any]]
                     ) -> pa.Table:
    """The `__whatif_candidates` relation: one row per scored application, an edited raw
    column holds its new value, null = as published (the feature SQL coalesces)."""
    columns: dict[str, pa.Array] = {"row_key": pa.array(keys, pa.int64()),
                                    "sk_id_curr": pa.array(clients, pa.int64())}
    types = {"double": pa.float64(), "bigint": pa.int64(), "varchar": pa.string()}
    by_raw = {f.raw_column: f.name for f in FIELDS.values()}
    for column, kind in EDITABLE_RAW:
        name = by_raw[column]
        columns[column] = pa.array([to_raw(name, e[name]) if name in e else None
                                    for e in edits], types[kind])
    return pa.table(columns)


# --- the published model --------------------------------------------------------------------

@dataclass(frozen=True)
class WhatIfModel:
    """The champion as published with the warehouse, ready to score candidates."""

    model: ScoringModel
    info: FeatureInfo
    explain: ExplainConfig
    query_template: str          # feature query, catalog not yet bound
    edited: list[str]            # the features the query computes (an edit can change them)

    def query(self, catalog: str, ids: str | None = None,
              columns: dict[str, list[str]] | None = None) -> str:
        return bind_catalog(self.query_template, catalog, ids, columns)

    @property
    def kept(self) -> list[str]:
        """The model's features an edit cannot change: the client's published values."""
        edited = set(self.edited)
        return [f for f in self.model.features if f not in edited]

    def point_lookup(self, cur: duckdb.DuckDBPyConnection, catalog: str,
                     in_memory: bool = False, reader: duckdb.DuckDBPyConnection | None = None
                     ) -> PointLookup:
        """What `features` needs to look a few clients up cheaply (once per snapshot);
        `in_memory` also holds every client's `kept` features in memory (a server's choice:
        seconds to load and hundreds of MB at full scale, then no mart read per lookup), read
        through `reader` when given (the same file, `catalog` too, in another instance)."""
        point = point_lookup(cur, self.query_template, self.edited, catalog)
        if not in_memory or not self.kept:
            return point
        rows = int(point.rows.rowids.max(initial=-1)) + 1
        return replace(point, memory=load_published_columns(
            reader or cur, catalog, self.kept, rows, point.mart_types))

    def features(self, cur: duckdb.DuckDBPyConnection, candidates: pa.Table, catalog: str,
                 point: PointLookup | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(row keys, feature matrix) of the candidates, by the mart's feature SQL. A few
        clients are looked up by their ids (narrower and by rowid with `point`), many by a
        join with the candidates."""
        clients = candidates.column("sk_id_curr").to_numpy()
        few = len(np.unique(clients)) <= POINT_LOOKUP_IDS
        ids = literal_ids(clients) if few else f"select sk_id_curr from {CANDIDATES}"
        rowids = point.rows.of(clients) if point is not None and few else None
        columns = point.columns if point is not None and few else None
        cur.register(CANDIDATES, candidates)
        try:
            keys, computed = compute_features(cur, self.query(catalog, ids, columns),
                                              self.edited)
            kept = self.kept
            if not kept:
                published: dict[int, np.ndarray] = {}
            elif rowids is not None and point is not None and point.memory is not None:
                published = dict(zip(clients.tolist(), point.memory.take(rowids),
                                     strict=True))
            else:
                published = published_features(
                    cur, catalog, kept, ids, rowids,
                    point.mart_types if point is not None else None)
        finally:
            cur.unregister(CANDIDATES)
        return keys, self._assemble(keys, candidates, computed, kept, published)

    def _assemble(self, keys: np.ndarray, candidates: pa.Table, computed: np.ndarray,
                  kept: list[str], published: dict[int, np.ndarray]) -> np.ndarray:
        """The model's feature matrix: computed features beside the published ones."""
        if not kept:
            return computed
        position = {f: j for j, f in enumerate(self.model.features)}
        X = np.empty((len(keys), len(self.model.features)), dtype=np.float64)
        X[:, [position[f] for f in self.edited]] = computed
        client_of = dict(zip(candidates.column("row_key").to_pylist(),
                             candidates.column("sk_id_curr").to_pylist(), strict=True))
        nan_row = np.full(len(kept), np.nan)
        X[:, [position[f] for f in kept]] = np.vstack(
            [published.get(client_of[int(k)], nan_row) for k in keys]) if len(keys) else \
            np.empty((0, len(kept)))
        return X

    def log_odds(self, X: np.ndarray, threads: int = 1) -> np.ndarray:
        """Calibrated log-odds of default, without contributions (the recourse search)."""
        raw = self.model.booster.predict(model_input(X), raw_score=True, num_threads=threads)
        return self.model.calibration.a + self.model.calibration.b * raw

    def granted(self, log_odds: np.ndarray) -> np.ndarray:
        return sigmoid(log_odds) <= self.model.threshold

    def explain_rows(self, keys: np.ndarray, X: np.ndarray, threads: int = 1) -> ChunkOutput:
        """Scores, drivers, families and reasons — the batch's own function."""
        return explain_chunk(self.model, self.info, keys, X, datetime.now(UTC), self.explain,
                             threads)


def whatif_model_row(db_path: Path, models_dir: Path, config: MlConfig | None = None,
                     model_version: str | None = None) -> dict[str, Any]:
    """The model that scored the build (`model_version`, default the champion) and its
    feature query, as the row of ml.whatif_model."""
    config = config or load_config()
    record = get_model(Path(models_dir), model_version) if model_version else \
        find_champion(Path(models_dir))
    if record is None:
        raise RunFailure(f"{models_dir}: no champion model to publish for what-if scoring")
    model = load_scoring_model(record)
    con = connect(Path(db_path), read_only=True)
    try:
        catalog = read_catalog(con, list_feature_columns(con)).set_index("feature_name")
        compiled = read_compiled_sql(con)
        edited = edited_features(con, compiled, model.features)
        query = feature_query(con, compiled, edited)
    finally:
        con.close()
    metadata = {
        "features": model.features,
        "edited_features": edited,
        "labels": [str(catalog.loc[f, "feature_label"]) for f in model.features],
        "families": [str(catalog.loc[f, "family"]) for f in model.features],
        "calibration": {"method": model.calibration.method, "a": model.calibration.a,
                        "b": model.calibration.b},
        "threshold": model.threshold, "score_cutoff": model.score_cutoff,
        "score_scaling": scaling_record(model.scaling),
        "explain": {"top_drivers": config.explain.top_drivers,
                    "max_reasons": config.explain.max_reasons,
                    "reason_min_points": config.explain.reason_min_points},
    }
    return {"model_version": model.version, "model_text": model.booster.model_to_string(),
            "metadata": json.dumps(metadata), "feature_sql": query}


def write_whatif_model(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    con.execute("create schema if not exists ml")
    con.execute(f"create or replace table {MODEL_TABLE} (model_version varchar not null, "
                "model_text varchar not null, metadata json not null, "
                "feature_sql varchar not null)")
    con.execute(f"insert into {MODEL_TABLE} values (?, ?, ?, ?)",
                [row["model_version"], row["model_text"], row["metadata"], row["feature_sql"]])


def whatif_model_from_row(row: dict[str, Any]) -> WhatIfModel:
    meta = json.loads(row["metadata"])
    booster = lgb.Booster(model_str=row["model_text"])
    cal = meta["calibration"]
    model = ScoringModel(
        version=row["model_version"], booster=booster, features=list(meta["features"]),
        calibration=Calibration(cal["method"], float(cal["a"]), float(cal["b"])),
        threshold=float(meta["threshold"]), score_cutoff=int(meta["score_cutoff"]),
        scaling=scaling_from_record(meta["score_scaling"]))
    info = FeatureInfo(labels=np.array(meta["labels"], dtype=object),
                       families=np.array(meta["families"], dtype=object))
    explain = ExplainConfig(**meta["explain"])
    # a row without the list (before it existed) computes every feature by its query
    edited = list(meta.get("edited_features") or meta["features"])
    return WhatIfModel(model, info, explain, row["feature_sql"], edited)


def read_whatif_model(cur: duckdb.DuckDBPyConnection, table: str = SERVING_TABLE
                      ) -> WhatIfModel:
    """The published what-if model (`table` qualified as the reader needs)."""
    rows = cur.execute(f"select model_version, model_text, metadata, feature_sql from {table}"
                       ).fetchall()
    if len(rows) != 1:
        raise RunFailure(f"{table} holds {len(rows)} rows; expected the champion's one")
    return whatif_model_from_row(dict(zip(("model_version", "model_text", "metadata",
                                           "feature_sql"), rows[0], strict=True)))


def published_application(cur: duckdb.DuckDBPyConnection, catalog: str, sk_id_curr: int
                          ) -> dict[str, Any] | None:
    """The client's editable fields as published, in human units (None: unknown client)."""
    columns = ", ".join(f.raw_column for f in FIELDS.values())
    rows = cur.execute(
        f"select {columns} from {catalog}.raw.application_train where sk_id_curr = $1 "
        f"union all select {columns} from {catalog}.raw.application_test where sk_id_curr = $1",
        [sk_id_curr]).fetchall()
    if not rows:
        return None
    return {name: from_raw(name, value) for name, value in zip(FIELDS, rows[0], strict=True)}

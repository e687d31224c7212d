"""What-if and recourse on the published warehouse, for the API and the dashboard (no Panel,
no HTTP here).

Each call runs on one snapshot of dashboard.lookup.Lookup (the same read-only file, cursor
pool and per-snapshot cache as every other lookup): the what-if model is read once per snapshot
from serving.whatif_model; an edited application is scored by models_ml.whatif (the mart's
feature SQL, then the batch's scoring and explanation functions). Nothing is written: the
candidate application is an Arrow table registered on the request's own cursor.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.lookup import Lookup
from dashboard.lookup.snapshots import ClientRows, Snapshot, client_row, require_client
from dashboard.lookup.sql import (
    PUBLISHED,
    ClientNotFound,
    InvalidRequest,
    S,
    WarehouseUnavailable,
    check_id,
    client_not_found,
)
from dashboard.schemas import Driver, FamilyContribution, Reason
from dashboard.whatif_batch import Coalescer
from dashboard.whatif_schemas import (
    Application,
    PublishedScore,
    Recourse,
    RecourseOption,
    WhatIf,
)
from i18n import Message
from models_ml.feature_sql import PointLookup
from models_ml.recourse import Case, find_options, make_scorer, option_text
from models_ml.whatif import (
    FIELDS,
    EditError,
    WhatIfModel,
    candidates_table,
    from_raw,
    read_whatif_model,
    validate_edits,
)
from warehouse.errors import RunFailure

# on demand the round trips cost, not the rows: 15 probes per bracket and round find a
# lever's boundary among ~5,000 grid values in 3–4 rounds instead of 13
ON_DEMAND_PROBES = 15


@dataclass(frozen=True)
class _Scored:
    engine: WhatIfModel
    key: np.ndarray              # one row key
    X: np.ndarray                # its feature row (1 × features)


class WhatIfLookup:
    """Simulations and recourse options; safe to share between threads, like Lookup.

    `in_memory` holds every client's published features in memory per snapshot (the API:
    hundreds of MB at full scale for no mart read per what-if); without it they are fetched
    by rowid for each batch (the in-process dashboard, one advisor at a time per session)."""

    def __init__(self, lookup: Lookup, in_memory: bool = False) -> None:
        self.lookup = lookup
        self.in_memory = in_memory
        self._features = Coalescer(self._feature_rows)
        self._point_lock = threading.Lock()

    def _model(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> WhatIfModel:
        return snap.cached("whatif_model", lambda: read_whatif_model(
            cur, f"{S}.whatif_model"))

    def _point(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> PointLookup:
        """Per snapshot (loaded once: the lock keeps a recourse and the what-if batch from
        loading the published features twice at once)."""
        with self._point_lock:
            return snap.cached("whatif_point", lambda: self._load_point(snap, cur))

    def _load_point(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> PointLookup:
        engine = self._model(snap, cur)
        if not self.in_memory:
            return engine.point_lookup(cur, PUBLISHED)
        with self.lookup.snapshots.private_reader(snap) as reader:
            return engine.point_lookup(cur, PUBLISHED, in_memory=True, reader=reader)

    def _applications(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> ClientRows:
        """Every client's raw editable columns, held in memory per snapshot (≈ 30 MB at 356k
        clients)."""
        return snap.cached("whatif_applications", lambda: load_applications(cur, PUBLISHED))

    def warm(self) -> None:
        """Load the current snapshot's what-if state now (the API at start and after each
        publish, see Lookup.also_warm) instead of in the first what-if: seconds at full
        scale. Quiet when nothing (or no what-if model) is published: requests say why."""
        try:
            with self.lookup.snapshots.session() as (snap, cur):
                self._point(snap, cur)
                self._applications(snap, cur)
        except (WarehouseUnavailable, RunFailure):
            pass

    def _application(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection, sk_id_curr: int
                     ) -> dict[str, Any]:
        """The editable fields as published."""
        raw = self._applications(snap, cur).row(sk_id_curr)
        if raw is None:
            raise client_not_found(sk_id_curr)
        return {name: from_raw(name, raw[spec.raw_column]) for name, spec in FIELDS.items()}

    def application(self, sk_id_curr: int) -> Application:
        """The editable fields as published."""
        check_id(sk_id_curr)
        with self.lookup.snapshots.session() as (snap, cur):
            require_client(snap, cur, sk_id_curr)
            return Application(sk_id_curr=sk_id_curr,
                               **self._application(snap, cur, sk_id_curr))

    def _feature_rows(self, requests: Sequence[tuple[int, dict[str, Any]]]
                      ) -> list[_Scored | None]:
        """One feature query for the (client, edits) of concurrent requests (Coalescer)."""
        keys = np.arange(len(requests), dtype=np.int64)
        clients = np.array([c for c, _ in requests], dtype=np.int64)
        with self.lookup.snapshots.session() as (snap, cur):
            engine = self._model(snap, cur)
            got, X = engine.features(cur, candidates_table(keys, clients,
                                                           [e for _, e in requests]), PUBLISHED,
                                     self._point(snap, cur))
        at = {int(k): i for i, k in enumerate(got)}
        # None: no application row (a publish between the check and the query)
        return [_Scored(engine, got[at[k]:at[k] + 1], X[at[k]:at[k] + 1]) if k in at else None
                for k in keys.tolist()]

    def what_if(self, sk_id_curr: int, edits: dict[str, Any]) -> WhatIf:
        """The application with `edits` scored and explained like the batch; 422 (naming the
        field) for edits outside the bounds."""
        check_id(sk_id_curr)
        with self._features.inside():
            with self.lookup.snapshots.session() as (snap, cur):
                require_client(snap, cur, sk_id_curr)
                published = client_row(snap, cur, "client_scores", sk_id_curr)
                _validated(edits, self._application(snap, cur, sk_id_curr))
            scored = self._features.submit((sk_id_curr, edits))
            if scored is None:
                raise ClientNotFound(Message("error", "no_application",
                                             sk_id_curr=str(sk_id_curr)))
            output = scored.engine.explain_rows(np.array([sk_id_curr]), scored.X)
            return _what_if(scored.engine, sk_id_curr, edits, output, published)

    def recourse(self, sk_id_curr: int, edits: dict[str, Any] | None = None,
                 lang: str = "en") -> Recourse:
        """Options for the published application (edits None: precomputed for refused pending
        clients, on demand for the others) or for an edited one; sentences in `lang`."""
        check_id(sk_id_curr)
        with self.lookup.snapshots.session() as (snap, cur):
            require_client(snap, cur, sk_id_curr)
            published = client_row(snap, cur, "client_scores", sk_id_curr)
            engine = self._model(snap, cur)
            if edits is None and published["decision"] == "refuse" and \
                    self._is_pending(snap, cur, sk_id_curr):
                stored = _stored_recourse(cur, sk_id_curr, published)
                return _in_language(stored, self._application(snap, cur, sk_id_curr),
                                    engine.model.score_cutoff, lang)
            edits = edits or {}
            published_app = self._application(snap, cur, sk_id_curr)
            application = _validated(edits, published_app)
            ids = np.array([sk_id_curr], dtype=np.int64)
            keys, X = engine.features(cur, candidates_table(ids, ids, [edits]), PUBLISHED,
                                      self._point(snap, cur))
            if len(keys) != 1:
                raise ClientNotFound(Message("error", "no_application",
                                         sk_id_curr=str(sk_id_curr)))
            decision = "grant" if engine.granted(engine.log_odds(X))[0] else "refuse"
            if decision == "grant":
                return Recourse(sk_id_curr=sk_id_curr, model_version=engine.model.version,
                                decision="grant", options=[], reachable=False)
            case = Case(sk_id_curr, edits, application, published_app)
            found = find_options([case], engine, make_scorer(engine, cur, PUBLISHED,
                                                             point=self._point(snap, cur)),
                                 probes=ON_DEMAND_PROBES).get(sk_id_curr, [])
        return _in_language(Recourse(
            sk_id_curr=sk_id_curr, model_version=engine.model.version, decision="refuse",
            reachable=bool(found), options=[
                RecourseOption(lever=o.lever, edits=o.edits, score=o.score,
                               probability_default=o.probability_default, text=o.text,
                               text_code=o.text_code)
                for o in found]), application, engine.model.score_cutoff, lang)

    def _is_pending(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection, sk_id_curr: int) -> bool:
        return client_row(snap, cur, "clients", sk_id_curr)["population"] == "pending"


def load_applications(cur: duckdb.DuckDBPyConnection, catalog: str) -> ClientRows:
    """The raw editable columns of every application, sorted by id."""
    columns = ", ".join(spec.raw_column for spec in FIELDS.values())
    data = cur.sql(f"select sk_id_curr, {columns} from {catalog}.raw.application_train "
                   f"union all select sk_id_curr, {columns} from {catalog}.raw.application_test "
                   "order by sk_id_curr").to_arrow_table()
    return ClientRows(ids=np.asarray(data.column("sk_id_curr").to_numpy(), dtype=np.int64),
                      columns={name: data.column(name).combine_chunks()
                               for name in data.column_names})


def _validated(edits: dict[str, Any], published: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_edits(edits, published)
    except EditError as exc:
        raise InvalidRequest(exc.args[0]) from exc    # the coded message, to be translated


def _in_language(recourse: Recourse, application: dict[str, Any], cutoff: int, lang: str
                 ) -> Recourse:
    """The options' sentences in `lang` (they are made, and stored, in English)."""
    if lang == "en" or not recourse.options:
        return recourse
    return recourse.model_copy(update={"options": [
        o.model_copy(update={"text": option_text(o.lever, application, o.edits, o.score,
                                                 cutoff, lang)})
        for o in recourse.options]})


def _stored_recourse(cur: duckdb.DuckDBPyConnection, sk_id_curr: int,
                     published: dict[str, Any]) -> Recourse:
    rows = cur.execute(
        f"select lever, edits, score, probability_default, text, text_code "
        f"from {S}.client_recourse where sk_id_curr = $1 order by option_rank",
        [sk_id_curr]).fetchall()
    options = [RecourseOption(lever=r[0], edits=json.loads(r[1]), score=r[2],
                              probability_default=r[3], text=r[4], text_code=r[5])
               for r in rows]
    return Recourse(sk_id_curr=sk_id_curr, model_version=published["model_version"],
                    decision="refuse", options=options, reachable=bool(options))


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def _what_if(engine: WhatIfModel, sk_id_curr: int, edits: dict[str, Any], output: Any,
             published: dict[str, Any]) -> WhatIf:
    [head] = _rows(output.scores)
    families = sorted(_rows(output.families), key=lambda f: (f["points"], f["family"]))
    scaling = engine.model.scaling
    return WhatIf(
        sk_id_curr=sk_id_curr, model_version=engine.model.version, edits=edits,
        probability_default=head["probability_default"], score=head["score"],
        decision=head["decision"], risk_band=head["risk_band"], threshold=head["threshold"],
        score_cutoff=head["score_cutoff"], base_value=head["base_value"],
        base_points=scaling.offset - scaling.factor * head["base_value"],
        drivers=[Driver(**{k: d[k] for k in Driver.model_fields})
                 for d in sorted(_rows(output.drivers), key=lambda d: d["rank"])],
        families=[FamilyContribution(**{k: f[k] for k in FamilyContribution.model_fields})
                  for f in families],
        reasons=[Reason(**{k: r[k] for k in Reason.model_fields})
                 for r in sorted(_rows(output.reasons), key=lambda r: r["rank"])],
        published=PublishedScore(probability_default=published["probability_default"],
                                 score=published["score"], decision=published["decision"]),
        delta_points=int(head["score"]) - int(published["score"]))

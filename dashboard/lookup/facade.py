"""`Lookup`: the one object the API and the dashboard query, composed of the subject modules
(clients and search, scores and explanations, comparisons, model and portfolio) over one
`Snapshots` of the published file."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dashboard.blocks import BLOCK_CLIENTS
from dashboard.lookup import clients, comparisons, portfolio, scores
from dashboard.lookup.snapshots import (
    FileKey,
    Snapshots,
    client_index,
    load_client_rows,
    stat_warehouse,
)
from dashboard.lookup.sql import WarehouseUnavailable
from dashboard.schemas import (
    ClientPage,
    ClientRecord,
    ClientScore,
    Comparison,
    Explanation,
    FeatureList,
    Health,
    ModelCurves,
    ModelRuns,
    ModelSummary,
    Portfolio,
    RefreshRuns,
    Scatter,
    SimilarClients,
)


class Lookup:
    """Typed read-only queries on the published warehouse; safe to share between threads.

    `snapshots` is public for the modules that add queries on the same snapshots
    (`dashboard.whatif_lookup`)."""

    def __init__(self, warehouse: Path, threads: int = 1, memory_limit: str = "2GB",
                 block_clients: int = BLOCK_CLIENTS, warm_publishes: bool = False) -> None:
        self.warehouse = Path(warehouse)
        # a long-running server (the API) loads each newly published file in the background
        self.snapshots = Snapshots(self.warehouse, threads, memory_limit, block_clients,
                                   on_publish=self.warm if warm_publishes else None)
        self._warm_key: FileKey | None = None   # the file `warm` has loaded completely
        self._also_warm: list[Callable[[], object]] = []

    def also_warm(self, load: Callable[[], object]) -> None:
        """Have `warm` run `load` too, after its own loads (the API's what-if state)."""
        self._also_warm.append(load)

    def close(self) -> None:
        self.snapshots.close()

    def warm(self) -> bool:
        """Load into memory now what requests would load on first use: the client index, the
        one-row-per-client tables, every block of the many-rows-per-client tables, features,
        model and portfolio (≈ 8 s of CPU at 356k clients). False when nothing is published."""
        try:
            with self.snapshots.session() as (snap, cur):
                index = client_index(snap, cur)
                for table in ("clients", "client_scores"):
                    snap.cached(f"rows:{table}", lambda t=table: load_client_rows(cur, t))
                for table in scores.BLOCKED_SQL:
                    for first in range(0, len(index.ids), snap.block_clients):
                        scores.blocked_rows(snap, cur, table, int(index.ids[first]))
                comparisons.feature_map(snap, cur)
                warmed = snap.key
        except WarehouseUnavailable:
            return False
        for summary in (self.model, self.portfolio):
            try:
                summary()
            except WarehouseUnavailable:
                pass
        self._warm_key = warmed
        for load in self._also_warm:
            load()
        return True

    def is_warm(self) -> bool:
        """True when the published file is the one `warm` loaded completely: a client's
        lookups then read memory only (no DuckDB query, no load)."""
        try:
            return self._warm_key is not None and stat_warehouse(self.warehouse) == self._warm_key
        except WarehouseUnavailable:
            return False

    # --- clients and search ------------------------------------------------------------------

    def health(self) -> Health:
        return clients.health(self.snapshots)

    def search_clients(self, q: str | None = None, population: str | None = None,
                       decision: str | None = None, risk_band: str | None = None,
                       limit: int = 50, offset: int = 0) -> ClientPage:
        """Clients whose id starts with `q`, filtered, in id order, one page at a time."""
        return clients.search_clients(self.snapshots, q, population, decision, risk_band,
                                      limit, offset)

    def client(self, sk_id_curr: int) -> ClientRecord:
        return clients.client(self.snapshots, sk_id_curr)

    def score(self, sk_id_curr: int) -> ClientScore:
        return clients.score(self.snapshots, sk_id_curr)

    # --- scores, explanations, comparisons ---------------------------------------------------

    def explanation(self, sk_id_curr: int) -> Explanation:
        """Drivers (top contributions), families (all contributions summed) and reasons."""
        return scores.explanation(self.snapshots, sk_id_curr)

    def similar(self, sk_id_curr: int, k: int = 10) -> SimilarClients:
        """The k nearest history clients (serving.similar_clients), with outcome and score."""
        return comparisons.similar(self.snapshots, sk_id_curr, k)

    def features(self) -> FeatureList:
        """Features the comparison page can plot, most important first."""
        return comparisons.features(self.snapshots)

    def comparison(self, sk_id_curr: int, feature: str, group: str = "all") -> Comparison:
        """The client's value of `feature` against 'all', 'outcome' or 'similar' clients."""
        return comparisons.comparison(self.snapshots, sk_id_curr, feature, group)

    def scatter(self, sk_id_curr: int, x: str, y: str) -> Scatter:
        """Two features for the precomputed client sample plus the client itself."""
        return comparisons.scatter(self.snapshots, sk_id_curr, x, y)

    # --- model and portfolio -----------------------------------------------------------------

    def model(self) -> ModelSummary:
        """The champion's run, its top importance and the score scaling."""
        return portfolio.model(self.snapshots)

    def model_runs(self) -> ModelRuns:
        return portfolio.model_runs(self.snapshots)

    def model_curves(self) -> ModelCurves:
        """ROC, calibration and cost-vs-threshold points of the champion (out-of-fold)."""
        return portfolio.model_curves(self.snapshots)

    def refresh_runs(self, limit: int = 20) -> RefreshRuns:
        """Recent refresh runs, newest first (empty when the run log cannot be read)."""
        return portfolio.refresh_runs(self.snapshots, limit)

    def portfolio(self) -> Portfolio:
        """Decisions, risk bands and the score distribution of every scored client."""
        return portfolio.portfolio(self.snapshots)

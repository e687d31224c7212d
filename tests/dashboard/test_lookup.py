"""The lookup layer: contract shapes, search, explanations, comparisons, publishes, failures."""
from __future__ import annotations

import math
import os
import random
import shutil
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dashboard.blocks import load_block
from dashboard.lookup import (
    ClientNotFound,
    InvalidRequest,
    Lookup,
    WarehouseUnavailable,
    id_prefix_ranges,
)
from tests.dashboard.conftest import SampleIds
from tests.dashboard.serving_fixture import build_serving_warehouse

CONTRACT_COLUMNS = {
    "clients": ["sk_id_curr", "population", "target", "age_years", "gender", "family_status",
                "children", "education", "income_type", "occupation", "organization",
                "years_employed", "income", "credit_amount", "annuity", "goods_price",
                "contract_type", "own_car", "own_realty", "region_rating", "ext_source_1",
                "ext_source_2", "ext_source_3", "bureau_loans", "bureau_active_loans",
                "previous_applications", "previous_refused"],
    "client_scores": ["sk_id_curr", "model_version", "probability_default", "score", "decision",
                      "threshold", "score_cutoff", "risk_band", "scored_at"],
    "client_drivers": ["sk_id_curr", "model_version", "rank", "feature_name", "feature_label",
                       "family", "feature_value", "shap_value", "points"],
    "client_families": ["sk_id_curr", "model_version", "family", "family_label", "shap_value",
                        "points"],
    "client_reasons": ["sk_id_curr", "model_version", "rank", "reason_code", "reason_text",
                       "points"],
    "feature_dictionary": ["feature_name", "feature_label", "family", "description",
                           "source_table"],
    "feature_importance": ["model_version", "feature_name", "mean_abs_shap", "gain", "rank"],
    "feature_distributions": ["feature_name", "group", "bin_low", "bin_high", "clients"],
    "model_runs": ["model_version", "trained_at", "is_champion", "n_train", "n_features",
                   "oof_auc", "fold_auc_mean", "fold_auc_std", "brier", "log_loss", "ks",
                   "threshold", "expected_cost", "params"],
    "model_curves": ["curve", "x", "y"],
    "similar_clients": ["sk_id_curr", "rank", "neighbour_id", "distance"],
    "client_feature_values": ["sk_id_curr", "population", "target", "in_scatter_sample"],
}


@pytest.mark.parametrize("table", sorted(CONTRACT_COLUMNS))
def test_warehouse_has_the_contract_columns(db: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = [r[0] for r in db.execute(
        "select column_name from duckdb_columns() where schema_name = 'serving' "
        "and table_name = ? order by column_index", [table]).fetchall()]
    missing = [c for c in CONTRACT_COLUMNS[table] if c not in columns]
    assert not missing, f"serving.{table} lacks {missing}"


def test_fixture_tables_are_exactly_the_contract(db: duckdb.DuckDBPyConnection,
                                                 is_fixture: bool) -> None:
    if not is_fixture:
        pytest.skip("real warehouses may carry extra columns")
    for table in ("clients", "client_scores", "client_drivers", "client_families",
                  "client_reasons", "feature_dictionary", "feature_importance",
                  "feature_distributions", "similar_clients"):
        columns = [r[0] for r in db.execute(
            "select column_name from duckdb_columns() where schema_name = 'serving' "
            "and table_name = ? order by column_index", [table]).fetchall()]
        assert columns == CONTRACT_COLUMNS[table], table


# --- id prefixes and search -------------------------------------------------------------------


def test_id_prefix_ranges_match_decimal_prefixes() -> None:
    rng = random.Random(3)
    for _ in range(300):
        prefix = str(rng.randint(1, 99999))[: rng.randint(1, 5)]
        ranges = id_prefix_ranges(prefix)
        for candidate in [rng.randint(0, 10**7) for _ in range(50)] + [int(prefix)]:
            inside = any(lo <= candidate <= hi for lo, hi in ranges)
            assert inside == str(candidate).startswith(prefix), (prefix, candidate)


def test_id_prefix_ranges_edge_cases() -> None:
    assert id_prefix_ranges("0") == [(0, 0)]
    assert id_prefix_ranges("007") == []
    assert all(hi <= 2**63 - 1 for _, hi in id_prefix_ranges("9" * 19))
    for bad in ("", "12a", "-1", "1 2", "１２", "1" * 20, "' or 1=1 --"):
        with pytest.raises(InvalidRequest):
            id_prefix_ranges(bad)


def test_search_by_prefix_is_complete_and_ordered(lookup: Lookup, db: duckdb.DuckDBPyConnection,
                                                  ids: SampleIds) -> None:
    prefix = str(ids.granted)[:4]
    page = lookup.search_clients(q=prefix, limit=1000)
    expected = [r[0] for r in db.execute(
        "select sk_id_curr from serving.clients where cast(sk_id_curr as varchar) like ? "
        "order by sk_id_curr", [prefix + "%"]).fetchall()]
    assert page.total == len(expected)
    assert [i.sk_id_curr for i in page.items] == expected[:1000]


def test_search_pages_and_filters(lookup: Lookup, db: duckdb.DuckDBPyConnection) -> None:
    everyone = lookup.search_clients(limit=1000)
    assert everyone.total == db.execute("select count(*) from serving.clients").fetchone()[0]
    first, second = lookup.search_clients(limit=5), lookup.search_clients(limit=5, offset=5)
    assert [i.sk_id_curr for i in first.items + second.items] == \
        [i.sk_id_curr for i in everyone.items[:10]]
    past = lookup.search_clients(limit=5, offset=10**9)
    assert past.items == [] and past.total == everyone.total
    refused = lookup.search_clients(decision="refuse", population="history", risk_band="E",
                                    limit=1000)
    assert all(i.decision == "refuse" and i.population == "history" and i.risk_band == "E"
               for i in refused.items)
    assert refused.total == db.execute(
        "select count(*) from serving.clients c join serving.client_scores s using (sk_id_curr) "
        "where s.decision = 'refuse' and c.population = 'history' and s.risk_band = 'E'"
    ).fetchone()[0]


def test_search_rejects_bad_paging(lookup: Lookup) -> None:
    for kwargs in ({"limit": 0}, {"limit": -3}, {"limit": 10**6}, {"offset": -1}):
        with pytest.raises(InvalidRequest):
            lookup.search_clients(**kwargs)


def test_search_with_injection_like_filters_finds_nothing(lookup: Lookup) -> None:
    page = lookup.search_clients(population="history' or '1'='1", limit=10)
    assert page.total == 0 and page.items == []


# --- one client ---------------------------------------------------------------------------------


def test_client_and_score_are_the_serving_rows(lookup: Lookup, db: duckdb.DuckDBPyConnection,
                                               ids: SampleIds) -> None:
    record = lookup.client(ids.history)
    row = db.execute("select * from serving.clients where sk_id_curr = ?",
                     [ids.history]).fetchone()
    names = [d[0] for d in db.description]
    expected = dict(zip(names, row, strict=True))
    dumped = record.model_dump()
    for name, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert dumped[name] is None
        else:
            assert dumped[name] == value, name
    score = lookup.score(ids.refused)
    assert score.decision == "refuse" and score.score <= score.score_cutoff
    assert lookup.score(ids.granted).score > lookup.score(ids.granted).score_cutoff


@pytest.mark.parametrize("bad", [-1, -(2**70), 2**63, 10**30])
def test_out_of_range_ids_are_not_found(lookup: Lookup, bad: int) -> None:
    for method in (lookup.client, lookup.score, lookup.explanation, lookup.similar):
        with pytest.raises(ClientNotFound):
            method(bad)


def test_unknown_client_is_not_found(lookup: Lookup, ids: SampleIds) -> None:
    with pytest.raises(ClientNotFound):
        lookup.client(ids.missing)
    with pytest.raises(ClientNotFound):
        lookup.score(ids.missing)
    with pytest.raises(ClientNotFound):
        lookup.explanation(ids.missing)
    with pytest.raises(ClientNotFound):
        lookup.similar(ids.missing)
    feature = lookup.features().items[0].feature_name
    with pytest.raises(ClientNotFound):
        lookup.comparison(ids.missing, feature, "all")
    with pytest.raises(ClientNotFound):
        lookup.scatter(ids.missing, feature, feature)


def test_explanation_adds_up_to_the_score(lookup: Lookup, ids: SampleIds) -> None:
    scaling = lookup.model().score_scaling
    for cid in (ids.granted, ids.refused, ids.pending):
        e = lookup.explanation(cid)
        assert [d.rank for d in e.drivers] == sorted(d.rank for d in e.drivers)
        assert len(e.reasons) <= 4 and all(r.points < 0 for r in e.reasons)
        # base + all contributions = the unrounded score, which rounds to the score
        assert abs(e.base_points + sum(f.points for f in e.families) - e.score) <= 0.5 + 1e-6
        for d in e.drivers:
            assert d.points == pytest.approx(-scaling.factor * d.shap_value, rel=1e-6, abs=1e-9)
        p = lookup.score(cid).probability_default
        assert e.base_value + sum(f.shap_value for f in e.families) == pytest.approx(
            math.log(p / (1 - p)), abs=1e-6)


def test_similar_clients_are_history_clients_nearest_first(lookup: Lookup,
                                                           ids: SampleIds) -> None:
    for cid in (ids.history, ids.pending):
        items = lookup.similar(cid, 10).items
        assert len(items) == 10
        assert cid not in {i.sk_id_curr for i in items}
        assert all(i.target in (0, 1) for i in items)
        distances = [i.distance for i in items]
        assert distances == sorted(distances)
    assert len(lookup.similar(ids.history, 50).items) == 50
    for bad in (0, 51, -1):
        with pytest.raises(InvalidRequest):
            lookup.similar(ids.history, bad)


def test_explanations_and_neighbours_read_by_block_are_the_serving_rows(
        warehouse_path: Path, db: duckdb.DuckDBPyConnection) -> None:
    """Every client, with blocks of 7 clients (most clients in the middle of a block, some at
    either end, and the last block short): the rows served are exactly the tables' rows."""
    def table(sql: str) -> dict[int, list[tuple[object, ...]]]:
        rows: dict[int, list[tuple[object, ...]]] = {}
        for row in db.execute(sql).fetchall():
            rows.setdefault(row[0], []).append(tuple(
                None if isinstance(v, float) and not math.isfinite(v) else v for v in row[1:]))
        return rows

    drivers = table("select sk_id_curr, rank, feature_name, feature_label, family, "
                    "feature_value, shap_value, points from serving.client_drivers "
                    "order by sk_id_curr, rank")
    families = table("select sk_id_curr, family, family_label, shap_value, points "
                     "from serving.client_families order by sk_id_curr, family")
    reasons = table("select sk_id_curr, rank, reason_code, reason_text, points "
                    "from serving.client_reasons order by sk_id_curr, rank")
    similar = table("select sk_id_curr, neighbour_id, distance from serving.similar_clients "
                    "order by sk_id_curr, rank")
    scored = [r[0] for r in db.execute("select sk_id_curr from serving.client_scores "
                                       "order by sk_id_curr").fetchall()]
    lk = Lookup(warehouse_path, block_clients=7)
    try:
        for cid in scored:
            e = lk.explanation(cid)
            assert [tuple(d.model_dump().values()) for d in e.drivers] == drivers.get(cid, [])
            assert sorted(tuple(f.model_dump().values()) for f in e.families) == \
                families.get(cid, [])
            assert [tuple(r.model_dump().values()) for r in e.reasons] == reasons.get(cid, [])
            expected = similar.get(cid, [])
            assert [(i.sk_id_curr, i.distance) for i in lk.similar(cid, 50).items] == expected
            assert [(i.sk_id_curr, i.distance) for i in lk.similar(cid, 3).items] == \
                expected[:3]
    finally:
        lk.close()


def test_warm_loads_every_block_and_a_publish_is_warmed_in_the_background(
        tmp_path: Path) -> None:
    path = build_serving_warehouse(tmp_path / "warehouse.duckdb", clients=60)
    lk = Lookup(tmp_path / "none.duckdb")
    assert lk.warm() is False                       # nothing published: nothing to load
    lk = Lookup(path, block_clients=16, warm_publishes=True)
    try:
        assert lk.warm() is True
        blocks = {k for k in lk.snapshots.current.cache if k.startswith("block:")}
        assert len(blocks) == 4 * 4                 # 4 tables × ⌈60 / 16⌉ blocks
        shutil.copyfile(path, tmp_path / "next.duckdb")
        os.replace(tmp_path / "next.duckdb", path)  # a publish
        lk.score(lk.search_clients(limit=1).items[0].sk_id_curr)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(
                [k for k in lk.snapshots.current.cache if k.startswith("block:")]) < 16:
            time.sleep(0.05)
        assert len([k for k in lk.snapshots.current.cache if k.startswith("block:")]) == 16
    finally:
        lk.close()


def test_a_block_serves_null_nan_and_text_as_json_values() -> None:
    con = duckdb.connect(":memory:")
    try:
        con.execute("create table t as select * from (values (5, 1, 'a', 1.5), (5, 2, null, null),"
                    " (5, 3, 'b', 'nan'::double), (9, 1, 'a', 2.0)) v(sk_id_curr, rank, name, x)")
        block = load_block(con, "select sk_id_curr, rank, name, x from t where sk_id_curr "
                                "between $1 and $2 order by sk_id_curr, rank", 0, 100)
    finally:
        con.close()
    assert block.rows(5) == {"rank": [1, 2, 3], "name": ["a", None, "b"],
                             "x": [1.5, None, None]}
    assert block.rows(9) == {"rank": [1], "name": ["a"], "x": [2.0]}
    assert block.rows(7) == {"rank": [], "name": [], "x": []}
    assert block.columns["rank"].itemsize == 1  # ranks take a byte a row


# --- comparisons -----------------------------------------------------------------------------


def test_features_are_the_feature_value_columns(lookup: Lookup,
                                                db: duckdb.DuckDBPyConnection) -> None:
    names = [f.feature_name for f in lookup.features().items]
    columns = [r[0] for r in db.execute(
        "select column_name from duckdb_columns() where schema_name = 'serving' "
        "and table_name = 'client_feature_values'").fetchall()]
    assert names and set(names) == set(columns) - {"sk_id_curr", "population", "target",
                                                     "in_scatter_sample"}
    ranks = [f.rank for f in lookup.features().items]
    assert ranks == sorted(ranks)


def test_comparison_with_all_clients_counts_everyone(lookup: Lookup,
                                                    db: duckdb.DuckDBPyConnection,
                                                    ids: SampleIds) -> None:
    feature = lookup.features().items[0].feature_name
    c = lookup.comparison(ids.history, feature, "all")
    assert {b.group for b in c.bins} == {"all"}
    present = db.execute(f'select count("{feature}") from serving.client_feature_values'
                         ).fetchone()[0]
    assert sum(b.clients for b in c.bins) == present
    value = db.execute(f'select "{feature}" from serving.client_feature_values '
                       f'where sk_id_curr = ?', [ids.history]).fetchone()[0]
    assert c.client_value == (None if value is None else pytest.approx(value))


def test_comparison_by_outcome_and_with_similar_clients(lookup: Lookup, ids: SampleIds) -> None:
    feature = lookup.features().items[1].feature_name
    outcome = lookup.comparison(ids.refused, feature, "outcome")
    assert {b.group for b in outcome.bins} == {"outcome_0", "outcome_1"}
    similar = lookup.comparison(ids.refused, feature, "similar")
    assert {b.group for b in similar.bins} == {"similar"}
    assert 0 < sum(b.clients for b in similar.bins) <= 50
    everyone = lookup.comparison(ids.refused, feature, "all")
    # the similar histogram uses the bins of the 'all' histogram
    assert [(b.bin_low, b.bin_high) for b in similar.bins] == \
        [(b.bin_low, b.bin_high) for b in everyone.bins]


def test_comparison_without_precomputed_histogram_is_computed(
        lookup: Lookup, db: duckdb.DuckDBPyConnection, ids: SampleIds) -> None:
    covered = {r[0] for r in db.execute(
        "select distinct feature_name from serving.feature_distributions").fetchall()}
    uncovered = [f.feature_name for f in lookup.features().items if f.feature_name not in covered]
    if not uncovered:
        pytest.skip("every comparable feature has a precomputed histogram here")
    c = lookup.comparison(ids.history, uncovered[0], "outcome")
    present = db.execute(f'select count("{uncovered[0]}") from serving.client_feature_values '
                         f"where target is not null").fetchone()[0]
    assert sum(b.clients for b in c.bins) == present


@pytest.mark.parametrize("feature", ["nope", "sk_id_curr", "target", 'x" from serving.clients --',
                                     "'; drop table serving.clients; --", "", "a" * 500])
def test_comparison_rejects_unknown_features(lookup: Lookup, ids: SampleIds,
                                             feature: str) -> None:
    with pytest.raises(InvalidRequest):
        lookup.comparison(ids.history, feature, "all")
    with pytest.raises(InvalidRequest):
        lookup.scatter(ids.history, feature, feature)


def test_comparison_rejects_unknown_groups(lookup: Lookup, ids: SampleIds) -> None:
    with pytest.raises(InvalidRequest):
        lookup.comparison(ids.history, lookup.features().items[0].feature_name, "outcome_1")


def test_scatter_shows_the_sample_and_the_client(lookup: Lookup, db: duckdb.DuckDBPyConnection,
                                                 ids: SampleIds) -> None:
    x, y = (f.feature_name for f in lookup.features().items[:2])
    s = lookup.scatter(ids.pending, x, y)
    sample = {r[0] for r in db.execute("select sk_id_curr from serving.client_feature_values "
                                       "where in_scatter_sample").fetchall()}
    assert {p.sk_id_curr for p in s.points} == sample - {ids.pending}
    assert s.client.sk_id_curr == ids.pending and s.client.group == "pending"
    assert {p.group for p in s.points} <= {"repaid", "difficulties", "pending"}


# --- model and portfolio ------------------------------------------------------------------------


def test_model_is_the_champion_with_consistent_scaling(lookup: Lookup,
                                                      db: duckdb.DuckDBPyConnection) -> None:
    m = lookup.model()
    assert m.is_champion
    assert [i.rank for i in m.importance] == sorted(i.rank for i in m.importance)
    s = m.score_scaling
    assert s.pdo == pytest.approx(s.factor * math.log(2))
    for p, score in db.execute("select probability_default, score from serving.client_scores "
                               "using sample 50 rows").fetchall():
        assert abs(s.offset - s.factor * math.log(p / (1 - p)) - score) <= 0.5 + 1e-6


def test_scaling_is_derived_when_the_run_does_not_state_it(tmp_path: Path) -> None:
    path = build_serving_warehouse(tmp_path / "w.duckdb", clients=150, seed=3)
    con = duckdb.connect(str(path))
    contract = ", ".join(CONTRACT_COLUMNS["model_runs"])
    con.execute(f"create table serving.runs_only as select {contract} from serving.model_runs")
    con.execute("drop table serving.model_runs")
    con.execute("alter table serving.runs_only rename to model_runs")
    con.close()
    lk = Lookup(path)
    derived = lk.model().score_scaling
    assert derived.source == "derived"
    assert derived.factor == pytest.approx(20 / math.log(2), rel=1e-9)
    assert derived.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50), abs=0.5)
    e = lk.explanation(lk.search_clients(limit=1).items[0].sk_id_curr)
    assert e.base_points + sum(f.points for f in e.families) == pytest.approx(e.score)
    lk.close()


def test_model_curves_runs_and_portfolio(lookup: Lookup, db: duckdb.DuckDBPyConnection) -> None:
    curves = {p.curve for p in lookup.model_curves().points}
    assert curves == {"roc", "calibration", "cost"}
    runs = lookup.model_runs().items
    assert sum(r.is_champion for r in runs) == 1
    portfolio = lookup.portfolio()
    clients = db.execute("select count(*) from serving.client_scores").fetchone()[0]
    assert portfolio.clients == clients
    assert sum(d.clients for d in portfolio.decisions) == clients
    assert sum(b.clients for b in portfolio.bands) == clients
    assert sum(h.clients for h in portfolio.score_histogram) == clients
    assert [b.risk_band for b in portfolio.bands] == sorted(b.risk_band for b in portfolio.bands)
    assert isinstance(lookup.refresh_runs().items, list)


# --- availability and publishes -------------------------------------------------------------


def test_no_warehouse_yet(tmp_path: Path) -> None:
    lk = Lookup(tmp_path / "warehouse.duckdb")
    health = lk.health()
    assert health.status == "unavailable" and "no warehouse published" in health.detail
    for call in (lambda: lk.client(1), lambda: lk.search_clients(), lk.model, lk.portfolio,
                 lk.features):
        with pytest.raises(WarehouseUnavailable):
            call()


def test_a_file_without_serving_tables_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create table marts.x as select 1 as a")
    con.close()
    assert Lookup(path).health().status == "unavailable"
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(os.urandom(8192))
    lk = Lookup(corrupt)
    assert lk.health().status == "unavailable"
    with pytest.raises(WarehouseUnavailable):
        lk.client(1)


def _publish(source: Path, target: Path) -> None:
    """What a refresh does: copy to a private file, then atomically rename onto the target."""
    staging = target.with_suffix(".staging")
    shutil.copyfile(source, staging)
    os.replace(staging, target)


def test_lookup_moves_to_a_newly_published_warehouse(tmp_path: Path) -> None:
    first = build_serving_warehouse(tmp_path / "first.duckdb", clients=120, seed=1)
    second = build_serving_warehouse(tmp_path / "second.duckdb", clients=180, seed=2)
    published = tmp_path / "home" / "warehouse.duckdb"
    published.parent.mkdir()
    lk = Lookup(published)
    assert lk.health().status == "unavailable"
    _publish(first, published)
    assert lk.health().clients == 120
    # a request in flight keeps reading its snapshot while the next one is published
    with lk.snapshots.session() as (snap, cur):
        _publish(second, published)
        assert cur.execute("select count(*) from published.serving.clients").fetchone()[0] == 120
        assert lk.health().clients == 180
    assert snap.retired
    assert lk.search_clients(limit=1).total == 180
    lk.close()


def test_concurrent_lookups_during_publishes(tmp_path: Path) -> None:
    versions = [build_serving_warehouse(tmp_path / f"v{i}.duckdb", clients=100 + 20 * i, seed=i)
                for i in range(3)]
    published = tmp_path / "warehouse.duckdb"
    _publish(versions[0], published)
    lk = Lookup(published)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                page = lk.search_clients(limit=3)
                for item in page.items:
                    lk.score(item.sk_id_curr)
                    lk.explanation(item.sk_id_curr)
            except ClientNotFound:
                pass  # an id of the previous snapshot may be gone from the next one
            except BaseException as exc:  # noqa: BLE001 — any other error fails the test
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for i in range(1, 9):
        _publish(versions[i % 3], published)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert lk.health().clients in (100, 120, 140)
    lk.close()


def test_pooled_cursors_carry_no_unfinished_result_into_the_next_request(
        warehouse_path: Path, ids: SampleIds) -> None:
    # health() reads one row of a result (fetchone); the cursor goes back to the pool, and
    # the next request's first use of it (loading the client rows) must still work
    lk = Lookup(warehouse_path)
    try:
        for _ in range(3):
            assert lk.health().status == "ok"
            assert lk.client(ids.history).sk_id_curr == ids.history
            assert lk.score(ids.pending).sk_id_curr == ids.pending
            assert lk.model().model_version
    finally:
        lk.close()


def test_values_are_json_safe(lookup: Lookup, ids: SampleIds) -> None:
    record = lookup.client(ids.history).model_dump()
    assert not any(isinstance(v, float) and not np.isfinite(v) for v in record.values())

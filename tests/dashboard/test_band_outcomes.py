"""The portfolio page's observed difficulties per band come from out-of-fold bands
(serving.band_outcomes), not from the champion's in-sample bands."""
from __future__ import annotations

import duckdb

from dashboard.lookup import Lookup


def test_portfolio_bands_report_out_of_fold_outcomes(lookup: Lookup,
                                                     db: duckdb.DuckDBPyConnection) -> None:
    honest = {band: (clients, rate) for band, clients, rate in db.execute(
        "select risk_band, history_clients, default_rate from serving.band_outcomes "
        "where model_version = (select any_value(model_version) from serving.client_scores)"
    ).fetchall()}
    in_sample = {band: (clients, rate) for band, clients, rate in db.execute(
        "select s.risk_band, count(c.target), avg(c.target::double) from serving.client_scores s "
        "join serving.clients c using (sk_id_curr) group by 1").fetchall()}
    shown = {b.risk_band: (b.history_clients, b.default_rate) for b in lookup.portfolio().bands}
    for band, (clients, rate) in shown.items():
        expected = honest.get(band, (0, None))
        assert clients == expected[0]
        assert rate == expected[1] or abs(rate - expected[1]) < 1e-12
    assert shown != {b: v for b, v in in_sample.items() if b in shown}

"""The serving benchmark's load generator (dashboard.bench), on the test warehouse."""
from __future__ import annotations

from pathlib import Path

from dashboard.bench import measure_api, warm_up_paths


def test_warm_up_asks_every_feature_and_group_once_then_the_mix() -> None:
    paths = warm_up_paths([7, 8], ["a", "b"], ["/clients/7"])
    comparisons = [p for p in paths if "/comparison?" in p]
    assert len(comparisons) == 6
    assert {p.split("?", 1)[1] for p in comparisons} == {
        f"feature={f}&group={g}" for f in "ab" for g in ("all", "similar", "outcome")}
    assert paths[-1] == "/clients/7"


def test_measure_api_sends_the_mix_without_errors(warehouse_path: Path) -> None:
    result = measure_api(warehouse_path, concurrency=2, requests=60, warmup=10)
    assert result["errors"] == 0
    assert result["requests"] == 60
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["rps"] > 0

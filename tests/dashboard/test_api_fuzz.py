"""Fuzzing the live API from its own OpenAPI document (schemathesis).

A real uvicorn server (`dashboard.bench.run_api`, the code `pad api` serves) runs on a free
loopback port over a copy of the test warehouse; schemathesis reads `/openapi.json` from it and
sends generated requests — valid and invalid — to EVERY operation of the document, so routes
that other modules add are fuzzed as soon as they are included in `create_app`. Each answer
must pass three checks: no 5xx (not_a_server_error), a status the document lists for the
operation (status_code_conformance), and a body matching the documented schema of that status
(response_schema_conformance).

Two servers: one open (loopback, no service token) and one with PAD_API_TOKEN set, where every
case is also replayed without a token and must be refused with a documented 401.

To reach past the 404s, generated values of the parameters named in `REAL_VALUES` are replaced
half of the time by real ones from the warehouse (client ids, feature names). A new router
whose parameters need real values adds an entry there; one that needs headers (e.g. an advisor
token to write) gets them from `headers_for`.
"""
from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

from dashboard.bench import run_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
SERVICE_TOKEN = "fuzz-service-token-0123"
ADVISOR = ("fuzzer", "fuzz-advisor-token-4567")
# examples per operation and generation mode: on the open server the fuzzing proper; on the
# token server (three requests a case) the 401s, which need fewer
MAX_EXAMPLES = {"open": 25, "token": 8}


@dataclass(frozen=True)
class Target:
    """One live server under test."""

    mode: str                      # 'open' or 'token'
    url: str
    real: dict[str, list[Any]]     # parameter name → real values (see REAL_VALUES)


REAL_VALUES: dict[str, Callable[[duckdb.DuckDBPyConnection], list[Any]]] = {
    # client ids of every kind: granted, refused, history, pending (first few of each)
    "sk_id_curr": lambda db: [r[0] for r in db.execute(
        "(select sk_id_curr from serving.client_scores where decision = 'grant' limit 4) union "
        "(select sk_id_curr from serving.client_scores where decision = 'refuse' limit 4) "
        "union (select sk_id_curr from serving.clients where population = 'pending' limit 4)"
    ).fetchall()],
    "feature": lambda db: _features(db),
    "x": lambda db: _features(db),
    "y": lambda db: _features(db),
}


def _features(db: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in db.execute(
        "select column_name from duckdb_columns() where schema_name = 'serving' "
        "and table_name = 'client_feature_values' and column_name not in "
        "('sk_id_curr', 'population', 'target', 'in_scatter_sample') limit 8").fetchall()]


def headers_for(target: Target, case: schemathesis.Case) -> dict[str, str]:
    """What a legitimate caller sends: on the open server an advisor's token (writes need
    one; reads ignore it), on the token server the service token (reads pass, writes that
    need an advisor answer a documented 401)."""
    token = ADVISOR[1] if target.mode == "open" else SERVICE_TOKEN
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=["open", "token"])
def target(request: pytest.FixtureRequest, warehouse_path: Path,
           db: duckdb.DuckDBPyConnection,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    # a copy in a home of its own: writes (decisions) land there, not beside the shared file
    home = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    warehouse = home / "warehouse.duckdb"
    shutil.copyfile(warehouse_path, warehouse)
    env = {"PAD_HOME": str(home), "PAD_ADVISOR_TOKENS": f"{ADVISOR[0]}:{ADVISOR[1]}"}
    token = SERVICE_TOKEN if request.param == "token" else None
    real = {name: values(db) for name, values in REAL_VALUES.items()}
    with run_api(warehouse, token=token, env=env) as url:
        yield Target(mode=request.param, url=url, real=real)


def _with_real_values(generated: dict[str, Any] | None,
                      real: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half of the time, each well-typed generated value of a known parameter becomes a
    real one; invalid values (negative cases) are left as generated."""
    if not generated:
        return st.just(generated)
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in generated.items():
        values = real.get(name)
        if values and type(value) is type(values[0]):
            parts[name] = st.one_of(st.just(value), st.sampled_from(values))
        else:
            parts[name] = st.just(value)
    return st.fixed_dictionaries(parts)


@pytest.fixture(scope="module")
def api_schema(target: Target) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{target.url}/openapi.json",
                                           headers=headers_for(target, None))  # type: ignore[arg-type]
    schema.config.update(base_url=target.url)
    schema.config.generation.update(with_security_parameters=False)

    @schema.hook("flatmap_path_parameters")
    def real_path(_: schemathesis.HookContext, values: dict[str, Any]) -> Any:
        return _with_real_values(values, target.real)

    @schema.hook("flatmap_query")
    def real_query(_: schemathesis.HookContext, values: dict[str, Any]) -> Any:
        return _with_real_values(values, target.real)

    return schema


def _fuzz(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode,
          target: Target) -> None:
    """MAX_EXAMPLES generated cases of one operation, each sent and checked."""
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES[target.mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers_for(target, case), checks=CHECKS)
        if target.mode == "token":
            for wrong in ({}, {"Authorization": "Bearer not-the-token"}):
                response = case.call_and_validate(headers=wrong, checks=CHECKS)
                assert response.status_code == 401, (case.path, response.status_code)

    run()


def test_live_api_conforms_to_its_openapi(api_schema: schemathesis.BaseSchema,
                                          target: Target) -> None:
    """Every operation of the document, valid and invalid inputs; all failures reported."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # the what-if routes score with a real refresh's model and raw rows, which this warehouse
    # lacks (they answer 503 here): tests/whatif/test_api_fuzz.py fuzzes them on one
    operations = [o for o in operations if "what-if" not in o.definition.raw.get("tags", [])]
    assert len(operations) >= 14, [o.label for o in operations]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, target)
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body)
            except (AssertionError, BaseExceptionGroup) as exc:  # report every failure
                failures.append(f"{operation.label} ({mode.value}): "
                                f"{str(exc).strip()[:1500]}")
    assert not failures, "\n\n".join(failures)

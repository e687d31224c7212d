"""Schemathesis fuzzes the what-if routes of the live API on the real small refresh (the
machinery of tests/dashboard/test_api_fuzz.py: open and token servers, real client ids, no
5xx, documented statuses and bodies)."""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis.errors import Unsatisfiable

from tests.dashboard.conftest import db  # noqa: F401 - reads `warehouse_path` below
from tests.dashboard.test_api_fuzz import Target, _fuzz, api_schema, target  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.dbt,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="session")
def warehouse_path(published: Path) -> Path:
    """The real small refresh (tests.dashboard.conftest's `db` reads it too)."""
    return published


def test_what_if_routes_conform_to_their_openapi(api_schema: schemathesis.BaseSchema,  # noqa: F811
                                                 target: Target) -> None:  # noqa: F811
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations = [o for o in operations if "what-if" in o.definition.raw.get("tags", [])]
    assert len(operations) == 4, [o.label for o in operations]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, target)
            except Unsatisfiable:
                continue
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc).strip()[:1500]}")
    assert not failures, "\n\n".join(failures)

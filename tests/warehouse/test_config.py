"""Whole-number settings read from the environment: defaults, and one clear line on a bad value."""
from __future__ import annotations

import pytest

from warehouse.config import duckdb_threads, env_float, env_int, marts_dbt_threads
from warehouse.errors import BadInput


def test_unset_or_blank_is_the_default() -> None:
    assert env_int("PAD_X", 7, env={}) == 7
    assert env_int("PAD_X", 7, env={"PAD_X": "  "}) == 7
    assert env_int("PAD_X", 7, env={"PAD_X": " 3 "}) == 3


@pytest.mark.parametrize(("raw", "message"), [
    ("two", "environment variable PAD_X='two' is not an integer"),
    ("1.5", "environment variable PAD_X='1.5' is not an integer"),
    ("0", "environment variable PAD_X='0' must be at least 1"),
    ("-2", "environment variable PAD_X='-2' must be at least 1"),
])
def test_a_bad_value_is_one_line_naming_the_variable(raw: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        env_int("PAD_X", 7, env={"PAD_X": raw})
    assert str(caught.value) == message


@pytest.mark.parametrize(("raw", "message"), [
    ("fast", "environment variable PAD_Y='fast' is not a number"),
    ("inf", "environment variable PAD_Y='inf' is not a number"),
    ("0", "environment variable PAD_Y='0' must be at least 0.001"),
])
def test_a_bad_decimal_is_one_line_too(raw: str, message: str) -> None:
    assert env_float("PAD_Y", 0.5, minimum=1e-3, env={"PAD_Y": "0.25"}) == 0.25
    with pytest.raises(BadInput) as caught:
        env_float("PAD_Y", 0.5, minimum=1e-3, env={"PAD_Y": raw})
    assert str(caught.value) == message


def test_the_thread_settings_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAD_THREADS", "3")
    monkeypatch.setenv("PAD_MARTS_DBT_THREADS", "1")
    assert (duckdb_threads(), marts_dbt_threads()) == (3, 1)
    monkeypatch.setenv("PAD_MARTS_DBT_THREADS", "zero")
    with pytest.raises(BadInput, match="PAD_MARTS_DBT_THREADS='zero' is not an integer"):
        marts_dbt_threads()

"""The dashboard's dbt models (warehouse/models/dashboard) built and tested by dbt.

The models are copied into a throw-away dbt project whose upstream models (serving.clients,
serving.feature_importance, marts.client_features, … and the tables the exposures name) are
views over the fixture warehouse, so this test needs neither raw data nor a trained model.
The project's generic tests and schema-name macro are copied too. The dbt-built tables must
equal what the fixture computes with the same code.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.dashboard.serving_fixture import (
    SCATTER_SAMPLE,
    TOP_FEATURES,
    build_serving_warehouse,
)
from warehouse.config import DBT_PROJECT_DIR

pytestmark = pytest.mark.dbt

UPSTREAM = {"clients": "serving", "client_scores": "serving", "client_drivers": "serving",
            "client_families": "serving", "client_reasons": "serving",
            "feature_dictionary": "serving", "feature_importance": "serving",
            "feature_distributions": "serving", "model_runs": "serving",
            "model_curves": "serving", "refresh_runs": "serving", "client_features": "marts"}
OURS = ("client_feature_values", "similar_clients")


def exposed_only() -> list[str]:
    """Models the exposures name beyond UPSTREAM and OURS (what-if, monitoring, …): the
    exposures only need the nodes to exist, so each gets a stub."""
    text = (DBT_PROJECT_DIR / "models" / "dashboard" / "_dashboard__models.yml").read_text()
    named = set(re.findall(r"ref\('([a-z0-9_]+)'\)", text.split("\nexposures:", 1)[1]))
    return sorted(named - set(UPSTREAM) - set(OURS))


def make_project(root: Path, db_path: Path) -> Path:
    project = root / "project"
    shutil.copytree(DBT_PROJECT_DIR / "models" / "dashboard", project / "models" / "dashboard")
    (project / "macros").mkdir(parents=True)
    shutil.copy(DBT_PROJECT_DIR / "macros" / "generate_schema_name.sql", project / "macros")
    shutil.copytree(DBT_PROJECT_DIR / "tests" / "generic", project / "tests" / "generic")
    stubs = project / "models" / "upstream"
    stubs.mkdir()
    for name, schema in UPSTREAM.items():
        (stubs / f"{name}.sql").write_text(
            f"{{{{ config(schema='{schema}', materialized='view') }}}}\n"
            f"select * from fixture.{name}\n")
    for name in exposed_only():
        (stubs / f"{name}.sql").write_text(
            "{{ config(schema='serving', materialized='view') }}\nselect 1 as stub\n")
    (project / "dbt_project.yml").write_text(
        "name: dashboard_models_test\nversion: '1.0'\nconfig-version: 2\nprofile: test\n"
        "model-paths: ['models']\nmacro-paths: ['macros']\ntest-paths: ['tests']\n"
        "flags:\n  send_anonymous_usage_stats: false\n  partial_parse: false\n")
    (project / "profiles.yml").write_text(
        f"test:\n  target: t\n  outputs:\n    t:\n      type: duckdb\n      path: '{db_path}'\n"
        f"      schema: main\n      threads: 2\n      keep_open: false\n")
    return project


def move_fixture_aside(db_path: Path) -> None:
    """The fixture's tables become schema `fixture`; dbt builds serving.* anew on top."""
    con = duckdb.connect(str(db_path))
    con.execute("create schema fixture")
    for name, schema in UPSTREAM.items():
        con.execute(f"create table fixture.{name} as select * from {schema}.{name}")
    for name in OURS:
        con.execute(f"create table fixture.{name} as select * from serving.{name}")
    con.execute("drop schema serving cascade")
    con.execute("drop schema marts cascade")
    con.close()


def test_dashboard_models_build_test_and_match(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    db_path = build_serving_warehouse(tmp_path / "warehouse.duckdb", clients=300, seed=4)
    move_fixture_aside(db_path)
    project = make_project(tmp_path, db_path)
    result = dbtRunner().invoke([
        "--quiet", "build", "--project-dir", str(project), "--profiles-dir", str(project),
        "--vars", f"{{dashboard_scatter_sample: {SCATTER_SAMPLE}}}",
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")])
    failed = [f"{r.node.name}: {r.message}" for r in (result.result or [])
              if r.status not in ("success", "pass")]
    assert result.success, failed or result.exception

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        built = con.execute("select * from serving.client_feature_values order by sk_id_curr").df()
        expected = con.execute("select * from fixture.client_feature_values "
                               "order by sk_id_curr").df()
        assert list(built.columns)[:4] == ["sk_id_curr", "population", "target",
                                           "in_scatter_sample"]
        assert len(built.columns) == 4 + TOP_FEATURES
        assert list(built.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(built, expected, check_dtype=False)

        neighbours = con.execute("select * from serving.similar_clients "
                                 "order by sk_id_curr, rank").df()
        reference = con.execute("select * from fixture.similar_clients "
                                "order by sk_id_curr, rank").df()
        assert neighbours["rank"].max() == 50
        pd.testing.assert_frame_equal(neighbours, reference, check_dtype=False)
        exposures = [e for e in ("dashboard", "lookup_api")
                     if e in (project / "models" / "dashboard" / "_dashboard__models.yml"
                              ).read_text()]
        assert exposures == ["dashboard", "lookup_api"]
    finally:
        con.close()

"""Generated dbt files are up to date with the schema, the dictionary and the feature specs."""
from __future__ import annotations

import duckdb
import pytest
import yaml

from tests.warehouse.conftest import Build
from warehouse import dbt_codegen
from warehouse.config import REPO_ROOT


def test_sources_and_dictionary_macro_are_current() -> None:
    assert dbt_codegen.SOURCES_YML.read_text() == dbt_codegen.render_sources_yaml()
    assert dbt_codegen.DICTIONARY_MACRO.read_text() == dbt_codegen.render_dictionary_macro()


def test_dictionary_quirks_are_repaired() -> None:
    dictionary = dbt_codegen.read_dictionary()
    assert ("bureau.csv", "SK_ID_BUREAU") in dictionary  # SK_BUREAU_ID in the dictionary
    assert ("POS_CASH_balance.csv", "SK_ID_PREV") in dictionary  # 'SK_ID_PREV ' in the dictionary
    sources = yaml.safe_load(dbt_codegen.SOURCES_YML.read_text())["sources"][0]["tables"]
    columns = {t["name"]: {c["name"] for c in t["columns"]} for t in sources}
    assert "nflag_micro_cash" not in columns["previous_application"]  # not in the data


@pytest.mark.dbt
def test_marts_yaml_documents_every_feature(dbt_build: Build) -> None:
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        cursor = con.execute("select * from marts.feature_catalog")
        names = [d[0] for d in cursor.description]
        catalog = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    current = dbt_codegen.MARTS_YML.read_text()
    expected = dbt_codegen.replace_marts_block(current, dbt_codegen.render_marts_block(catalog))
    assert current == expected, "stale: run `python -m warehouse.dbt_codegen`"
    documented = {
        c["name"]
        for m in yaml.safe_load(current)["models"] if m["name"] == "client_features"
        for c in m["columns"]
    }
    assert {row["feature_name"] for row in catalog} <= documented


def test_profile_releases_the_file_and_keeps_old_storage() -> None:
    text = (REPO_ROOT / "profiles.yml").read_text()
    output = yaml.safe_load(text)["pad_warehouse"]["outputs"]["local"]
    assert output["keep_open"] is False
    from warehouse.raw.load import STORAGE_VERSION

    assert output["config_options"]["storage_compatibility_version"] == STORAGE_VERSION
    assert "PAD_DBT_PATH" in output["path"] and "PAD_HOME" in output["path"]
    assert "PAD_MEMORY_LIMIT" in output["settings"]["memory_limit"]

"""Generated files of the dbt project: what is derived from the raw schema, the data dictionary
and the feature specs is written by this module, never by hand.

It owns three outputs (all committed; `tests/warehouse/test_dbt_codegen.py` fails when stale):
- `models/staging/_homecredit__sources.yml`: the `raw` tables with the data dictionary's
  descriptions (FACTS §9 quirks of the dictionary handled here);
- `macros/generated/homecredit_dictionary.sql`: per table and column the kind, missing rate,
  dictionary description and categorical vocabulary (the levels of `homecredit_schema.json`), so
  the one-hot features use a FIXED vocabulary rather than whatever levels the data happens to hold;
- the generated block of `models/marts/_marts__models.yml`: one entry per feature column of
  `client_features`, taken from the compiled `feature_catalog` model, i.e. from the same Jinja
  feature specs that generate the SQL.

Usage: `python -m warehouse.dbt_codegen` (write) or `python -m warehouse.dbt_codegen --check`.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

import yaml

from warehouse.config import DBT_PROJECT_DIR
from warehouse.raw.schema import tables

DICTIONARY_CSV = DBT_PROJECT_DIR / "raw" / "columns_description.csv"
SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_homecredit__sources.yml"
DICTIONARY_MACRO = DBT_PROJECT_DIR / "macros" / "generated" / "homecredit_dictionary.sql"
MARTS_YML = DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml"
BEGIN_MARK = "      # BEGIN GENERATED feature columns (python -m warehouse.dbt_codegen)"
END_MARK = "      # END GENERATED feature columns"

# The dictionary's "Table" value for each warehouse table.
DICTIONARY_TABLE = {
    "application_train": "application_{train|test}.csv",
    "application_test": "application_{train|test}.csv",
    "bureau": "bureau.csv",
    "bureau_balance": "bureau_balance.csv",
    "previous_application": "previous_application.csv",
    "pos_cash_balance": "POS_CASH_balance.csv",
    "credit_card_balance": "credit_card_balance.csv",
    "installments_payments": "installments_payments.csv",
}
# FACTS §9: the dictionary calls the bureau key SK_BUREAU_ID; the data says SK_ID_BUREAU.
DICTIONARY_RENAMES = {"SK_BUREAU_ID": "SK_ID_BUREAU"}

TABLE_DESCRIPTIONS = {
    "application_train": "Applications with a known outcome (TARGET); one row per client (SK_ID_CURR).",
    "application_test": "New applications without TARGET; one row per client (SK_ID_CURR).",
    "bureau": "Client's previous credits at other institutions reported by the Credit Bureau; "
    "one row per bureau credit (SK_ID_BUREAU).",
    "bureau_balance": "Monthly status of Credit Bureau credits; one row per bureau credit and "
    "month (SK_ID_BUREAU, MONTHS_BALANCE). Contains orphans (credits without a bureau row).",
    "previous_application": "Previous applications for Home Credit loans; one row per previous "
    "application (SK_ID_PREV).",
    "pos_cash_balance": "Monthly snapshots of previous POS and cash loans with Home Credit; "
    "one row per previous loan and month. Contains orphan SK_ID_PREV.",
    "credit_card_balance": "Monthly snapshots of previous credit cards with Home Credit; "
    "one row per card and month. Contains orphan SK_ID_PREV.",
    "installments_payments": "Repayment history of previous Home Credit loans; one row per "
    "payment (an instalment paid in several parts has several rows). Contains orphan SK_ID_PREV.",
}


def read_dictionary() -> dict[tuple[str, str], str]:
    """(dictionary table, column) -> description, with the FACTS §9 quirks repaired."""
    out: dict[tuple[str, str], str] = {}
    with DICTIONARY_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            column = row["Row"].strip()  # 'SK_ID_PREV ' has a trailing space in 4 rows
            column = DICTIONARY_RENAMES.get(column, column)
            description = " ".join(row["Description"].split())
            special = row["Special"].strip()
            if special and special != "hashed":
                description = f"{description} ({special})"
            out[(row["Table"], column)] = description
    return out


def column_description(dictionary: dict[tuple[str, str], str], table: str, column: str) -> str:
    found = dictionary.get((DICTIONARY_TABLE[table], column))
    if found is None:  # columns the dictionary does not describe keep a neutral description
        return f"{column} (not described in the data dictionary)"
    return found


def render_sources_yaml() -> str:
    dictionary = read_dictionary()
    source_tables = []
    for name, table in tables().items():
        source_tables.append(
            {
                "name": name,
                "description": TABLE_DESCRIPTIONS[name],
                "columns": [
                    {
                        "name": c.sql_name,
                        "description": column_description(dictionary, name, c.name),
                        "data_type": c.duckdb_type.lower(),
                    }
                    for c in table.columns
                ],
            }
        )
    document = {
        "version": 2,
        "sources": [
            {
                "name": "homecredit",
                "description": "The eight Kaggle Home Credit files, loaded typed into schema raw "
                "by warehouse/raw/load.py (column names = Kaggle names in lower case). Column "
                "descriptions come from HomeCredit_columns_description.csv.",
                "schema": "raw",
                "tables": source_tables,
            }
        ],
    }
    header = "# GENERATED by `python -m warehouse.dbt_codegen` from the raw schema and the data\n"
    header += "# dictionary; do not edit by hand.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def render_dictionary_macro() -> str:
    """Jinja macros: homecredit_columns(table) -> {COLUMN: {kind, dtype, missing_pct, description,
    levels}}, one literal per table so a lookup only builds the table it needs."""
    dictionary = read_dictionary()
    header = (
        "{#- GENERATED by `python -m warehouse.dbt_codegen` from warehouse/raw/homecredit_schema.json\n"
        "    and warehouse/raw/columns_description.csv; do not edit by hand.\n"
        "    Per raw table and Kaggle column: kind, dtype, missing_pct (full data), description,\n"
        "    levels (the fixed categorical vocabulary, most frequent first). -#}\n"
    )
    parts = [header, "{% macro homecredit_columns(table) -%}\n"]
    for index, name in enumerate(tables()):
        keyword = "if" if index == 0 else "elif"
        parts.append(f"    {{%- {keyword} table == {json.dumps(name)} -%}}\n")
        parts.append(f"        {{{{ return(homecredit_columns__{name}()) }}}}\n")
    parts.append("    {%- else -%}\n")
    parts.append("        {{ exceptions.raise_compiler_error('unknown raw table ' ~ table) }}\n")
    parts.append("    {%- endif -%}\n{%- endmacro %}\n")
    for name, table in tables().items():
        # One line per column keeps the file reviewable; JSON literals are valid Jinja literals.
        lines = []
        for c in table.columns:
            spec = {
                "kind": c.kind,
                "dtype": c.dtype,
                "missing_pct": c.missing_pct or 0.0,
                "description": column_description(dictionary, name, c.name),
                "levels": list(c.levels or {}),
            }
            lines.append(f"    {json.dumps(c.name)}: {json.dumps(spec, ensure_ascii=False)}")
        body = "{\n" + ",\n".join(lines) + "\n}"
        if "\\" in body:
            raise ValueError(f"backslash in the {name} dictionary: not a safe Jinja literal")
        parts.append(f"\n{{% macro homecredit_columns__{name}() %}}\n{{{{ return({body}) }}}}\n{{% endmacro %}}\n")
    return "".join(parts)


def compile_feature_catalog() -> list[dict]:
    """Rows of `feature_catalog`, from compiling the model (pure VALUES) and running it in memory."""
    import duckdb

    from warehouse.dbt_runner import compile_node_sql

    with tempfile.TemporaryDirectory() as tmp:
        sql = compile_node_sql("feature_catalog", Path(tmp) / "codegen.duckdb", Path(tmp))
    con = duckdb.connect()
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def render_marts_block(catalog: list[dict]) -> str:
    entries = [
        {"name": row["feature_name"], "description": row["description"]}
        for row in sorted(catalog, key=lambda r: r["position"])
    ]
    text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=100)
    return "".join("      " + line + "\n" for line in text.splitlines())


def replace_marts_block(current: str, block: str) -> str:
    start = current.index(BEGIN_MARK) + len(BEGIN_MARK) + 1
    end = current.index(END_MARK)
    return current[:start] + block + current[end:]


def expected_outputs(catalog: list[dict] | None = None) -> dict[Path, str]:
    catalog = catalog if catalog is not None else compile_feature_catalog()
    return {
        SOURCES_YML: render_sources_yaml(),
        DICTIONARY_MACRO: render_dictionary_macro(),
        MARTS_YML: replace_marts_block(MARTS_YML.read_text(), render_marts_block(catalog)),
    }


def stale_outputs(catalog: list[dict] | None = None) -> list[Path]:
    return [
        path
        for path, text in expected_outputs(catalog).items()
        if not path.exists() or path.read_text() != text
    ]


def write_outputs(skip_marts: bool = False) -> list[Path]:
    written = []
    # The dictionary macro must exist before the catalog can compile.
    for path, text in [
        (SOURCES_YML, render_sources_yaml()),
        (DICTIONARY_MACRO, render_dictionary_macro()),
    ]:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    if not skip_marts:
        text = replace_marts_block(MARTS_YML.read_text(), render_marts_block(compile_feature_catalog()))
        if MARTS_YML.read_text() != text:
            MARTS_YML.write_text(text)
            written.append(MARTS_YML)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    parser.add_argument("--skip-marts", action="store_true", help="skip the marts YAML (no dbt)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_outputs()
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_outputs(skip_marts=args.skip_marts):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

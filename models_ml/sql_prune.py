"""Dropping the select-list items nobody reads from a SQL query, with DuckDB's own parser.

Why: the feature mart computes ~850 columns through four layers of CTEs; DuckDB spends ~90 % of
a one-row feature query binding and optimising them. Scoring one edited application needs only
the model's features, so the query is pruned once (at refresh) to what they depend on.

How: `json_serialize_sql` gives the parsed query as JSON; an item of a select list is kept when
its output name is needed — a name the caller keeps, or one referenced anywhere else in the
query (WHERE, joins, GROUP BY, stars' EXCLUDE/REPLACE, or a kept item) — up to a fixpoint;
`json_deserialize_sql` writes the SQL back. Names are compared unqualified, so the analysis can
only keep too much, never too little: a query's result columns that the caller keeps are
computed by the same expressions as before.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import duckdb

Node = dict[str, Any]


def _walk(node: Any, visit: Callable[[Node], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _column_refs(node: Any) -> set[str]:
    names: set[str] = set()

    def visit(n: Node) -> None:
        if n.get("class") == "COLUMN_REF" and n.get("column_names"):
            names.add(n["column_names"][-1])
    _walk(node, visit)
    return names


def _select_nodes(tree: Node) -> list[Node]:
    nodes: list[Node] = []

    def visit(n: Node) -> None:
        if n.get("type") == "SELECT_NODE" and "select_list" in n:
            nodes.append(n)
    _walk(tree, visit)
    return nodes


def _output_name(item: Node) -> str | None:
    if item.get("alias"):
        return item["alias"]
    if item.get("class") == "COLUMN_REF":
        return item["column_names"][-1]
    return None


def _is_kept(item: Node, needed: set[str]) -> bool:
    name = _output_name(item)
    return item.get("class") == "STAR" or name is None or name in needed


def needed_names(tree: Node, keep: Iterable[str]) -> set[str]:
    """Every name the kept outputs depend on (a superset: see the module docstring)."""
    nodes = _select_nodes(tree)
    needed = set(keep)
    for node in nodes:
        for key, value in node.items():
            if key not in ("select_list", "cte_map"):
                needed |= _column_refs(value)
    changed = True
    while changed:
        changed = False
        for node in nodes:
            for item in node["select_list"]:
                if _is_kept(item, needed):
                    new = _column_refs(item) - needed
                    if new:
                        needed |= new
                        changed = True
    return needed


def depends_on(tree: Node, names: Iterable[str], sources: set[str]) -> list[str]:
    """The names (in order) whose computation reads any of `sources`, following select-list
    items by output name through every CTE (by name: it may say yes too often, never no)."""
    deps: dict[str, set[str]] = {}
    for node in _select_nodes(tree):
        for item in node["select_list"]:
            name = _output_name(item)
            if name is not None:
                deps.setdefault(name, set()).update(_column_refs(item))
    found = []
    for name in names:
        seen, stack = set(), [name]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(deps.get(current, ()))
        if seen & sources:
            found.append(name)
    return found


def parse(con: duckdb.DuckDBPyConnection, sql: str) -> Node:
    tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0])
    if tree.get("error"):
        raise ValueError(f"cannot parse the feature SQL: {tree.get('error_message')}")
    return tree


def prune_select_lists(con: duckdb.DuckDBPyConnection, sql: str, keep: Iterable[str]
                       ) -> tuple[str, set[str]]:
    """The query without the select-list items the kept names do not need, and those names."""
    tree = parse(con, sql)
    needed = needed_names(tree, keep)
    for node in _select_nodes(tree):
        kept = [item for item in node["select_list"] if _is_kept(item, needed)]
        if kept:  # a select list is never emptied (a CTE read only by its row count)
            node["select_list"] = kept
    pruned = con.execute("select json_deserialize_sql(?)", [json.dumps(tree)]).fetchall()[0][0]
    return pruned, needed

"""Serving side of the warehouse: the read-only lookup layer, the HTTP API and the Panel app.

- `lookup`  — SQL on the published `serving.*` tables (read-only DuckDB, follows publishes),
  a package by subject behind the `Lookup` facade;
- `schemas` — the typed records every layer exchanges (pydantic);
- `api`     — the FastAPI lookup API (`pad api`);
- `source`  — the one data interface of the dashboard: in-process lookup or HTTP API;
- `plots`   — DataFrame → HoloViews functions; `theme` — colour-blind-safe palette;
- `app`     — the Panel dashboard's shell (`pad dashboard`); `pages/` — one module per page;
- `texts`   — the dashboard's words (gettext domain `dashboard`) and number formats, French or
  English; `formatting` — HTML helpers;
- `bench`   — latency benchmarks for `pad bench`.
"""

"""Model monitoring (CONTRACTS §8): alerts, out-of-fold bands, fairness, back-tests and the
per-refresh history. Plain functions on a DuckDB build file and PAD_HOME paths; the refresh flow
calls them after scoring, the drift itself is dbt SQL (warehouse/models/monitoring/)."""

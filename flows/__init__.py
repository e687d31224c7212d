"""Orchestration: the `pad` command line, Prefect flows and the benchmarks."""

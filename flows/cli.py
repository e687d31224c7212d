"""The `pad` command line (CONTRACTS §2): parses arguments, maps errors onto exit codes.

Exit codes: 0 success · 1 failure during the run · 2 bad input or bad usage (one line on stderr).
Heavy modules are imported inside each command so `pad --help` and `pad sample` start fast.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from flows.config import DEFAULT_REFRESH_CRON, DEFAULT_RETRAIN_CRON, DEFAULT_SCHEDULE_PORT
from flows.processes import stop_message
from warehouse.config import pad_paths
from warehouse.errors import BadInput, RunFailure

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code 2 matches ours; keep one line
        self.exit(EXIT_BAD_INPUT, f"pad: error: {message}\n")


def _cmd_sample(args: argparse.Namespace) -> int:
    from warehouse.raw.generate import generate_portfolio

    out = Path(args.out) if args.out else pad_paths().raw
    if args.months is not None or args.drift is not None:
        return _sample_months(args, out)
    generate_portfolio(
        clients=args.clients, out_dir=out, seed=args.seed, write_zip=args.zip, progress=True
    )
    return EXIT_OK


def _sample_months(args: argparse.Namespace, out: Path) -> int:
    from warehouse.raw.evolve import generate_months
    from warehouse.raw.synth.drift import parse_drift

    if args.zip:
        raise BadInput("--zip cannot be combined with --months (each month is a folder)")
    if args.months is None:
        raise BadInput("--drift needs --months (the drift applies to the monthly arrivals)")
    drift = parse_drift(args.drift)  # before writing anything: a bad SPEC leaves no files
    generate_months(clients=args.clients, out_dir=out, months=args.months, seed=args.seed,
                    drift=drift, progress=True)
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from warehouse.raw.validate import validate_raw

    report = validate_raw(Path(args.raw), work_dir=pad_paths().build)
    print(report.render())
    return EXIT_OK


def _cmd_load(args: argparse.Namespace) -> int:
    from warehouse.raw.load import load_raw

    paths = pad_paths()
    result = load_raw(Path(args.raw), out=Path(args.out) if args.out else None, paths=paths)
    print(result.render())
    return EXIT_OK


def _cmd_refresh(args: argparse.Namespace) -> int:
    from flows.config import dask_address, dask_workers
    from flows.refresh import run_refresh

    paths = pad_paths()
    raw = Path(args.raw) if args.raw else paths.raw
    if args.partitions < 1:
        raise BadInput(f"--partitions {args.partitions}: must be at least 1")
    return run_refresh(raw=raw, retrain=args.retrain, paths=paths, partitions=args.partitions,
                       dask=dask_address(args.dask), workers=dask_workers())


def _cmd_api(args: argparse.Namespace) -> int:
    from dashboard.api import serve

    serve(host=args.host, port=args.port, paths=pad_paths())
    return EXIT_OK


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.app import serve

    serve(host=args.host, port=args.port, api_url=args.api, paths=pad_paths())
    return EXIT_OK


def _cmd_schedule(args: argparse.Namespace) -> int:
    from flows.schedule import run_schedule

    return run_schedule(pad_paths(), refresh_cron=args.refresh_cron,
                        retrain_cron=args.retrain_cron, port=args.port)


def _cmd_sql(args: argparse.Namespace) -> int:
    from flows.sql import open_shell, run_query

    warehouse = pad_paths().warehouse
    if args.query is None:
        return open_shell(warehouse)
    run_query(warehouse, args.query, as_csv=args.csv)
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from flows.bench import run_bench

    steps = [s.strip() for s in args.steps.split(",")] if args.steps else None
    return run_bench(clients=args.clients, steps=steps, home=args.home, seed=args.seed,
                     repeat=args.repeat, profile=args.profile,
                     partitions=_counts("--partitions", args.partitions),
                     workers=_counts("--workers", args.workers))


def _counts(option: str, value: str) -> list[int]:
    try:
        counts = [int(p) for p in value.split(",")]
    except ValueError:
        raise BadInput(f"{option} {value}: comma-separated whole numbers") from None
    if min(counts) < 1:
        raise BadInput(f"{option} {value}: each must be at least 1")
    return counts


def _cmd_decisions(args: argparse.Namespace) -> int:
    from warehouse.decisions.cli import export_log, verify_log

    if args.action == "verify":
        return verify_log(pad_paths())
    return export_log(pad_paths(), Path(args.out))


def _cmd_model_card(args: argparse.Namespace) -> int:
    from models_ml.monitoring.model_card import write_model_card

    text = write_model_card(pad_paths().warehouse, Path(args.out) if args.out else None,
                            lang=args.lang)
    if not args.out:
        print(text, end="")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pad", description="Prêt à dépenser credit-scoring warehouse")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("sample", help="write a synthetic portfolio in the real Kaggle format")
    p.add_argument("--clients", type=int, default=20000)
    p.add_argument("--out", help="output folder (default $PAD_HOME/raw)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--zip", action="store_true", help="also write home-credit-default-risk.zip")
    p.add_argument("--months", type=int, help="also write DIR/month=01 … month=MM: the "
                   "portfolio month after month (new applications, outcomes arriving)")
    p.add_argument("--drift", metavar="SPEC", help="shift the monthly arrivals, e.g. "
                   "income=-0.10,cash_share=+0.2,ext_source_3=-0.05 (README: Monitoring)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("validate", help="check a raw folder or zip and print a report")
    p.add_argument("--raw", required=True, help="folder or zip with the Kaggle CSVs")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("load", help="validate, then load typed tables into schema raw")
    p.add_argument("--raw", required=True, help="folder or zip with the Kaggle CSVs")
    p.add_argument("--out", help="DuckDB file to write (default: a new file under build/)")
    p.set_defaults(func=_cmd_load)

    p = sub.add_parser("refresh", help="one run of the refresh flow")
    p.add_argument("--raw", help="folder or zip (default $PAD_HOME/raw)")
    p.add_argument("--retrain", action="store_true")
    p.add_argument("--partitions", type=int, default=1, metavar="P",
                   help="split the clients into P buckets (per-client steps run per bucket)")
    p.add_argument("--dask", nargs="?", const="", metavar="local|ADDRESS",
                   help="run the buckets on Dask: 'local' (a LocalCluster here) or a scheduler "
                        "address (default $PAD_DASK_ADDRESS, else local)")
    p.set_defaults(func=_cmd_refresh)

    p = sub.add_parser("api", help="serve the read-only lookup API (OpenAPI at /docs)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_cmd_api)

    p = sub.add_parser("dashboard", help="serve the Panel dashboard")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--api", help="read through this lookup API URL instead of the warehouse")
    p.set_defaults(func=_cmd_dashboard)

    p = sub.add_parser("schedule", help="serve the scheduled refresh and retrain deployments")
    p.add_argument("--refresh-cron", default=DEFAULT_REFRESH_CRON)
    p.add_argument("--retrain-cron", default=DEFAULT_RETRAIN_CRON)
    p.add_argument("--port", type=int, default=DEFAULT_SCHEDULE_PORT,
                   help="port of the local Prefect server (API at http://127.0.0.1:PORT/api)")
    p.set_defaults(func=_cmd_schedule)

    p = sub.add_parser("decisions", help="verify or export the decision record")
    actions = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("verify", help="check the hash chain (exit 1 naming the first bad entry)")
    export = actions.add_parser("export", help="write the whole log to a Parquet file")
    export.add_argument("--out", required=True, help="FILE.parquet")
    p.set_defaults(func=_cmd_decisions)

    p = sub.add_parser("sql", help="SQL on the published warehouse, read-only: run QUERY, or "
                                   "open an interactive SQL shell")
    p.add_argument("query", nargs="?", help="SQL to run (default: an interactive shell, or a "
                                            "script on standard input)")
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    p.set_defaults(func=_cmd_sql)

    p = sub.add_parser("model-card", help="the champion's model card (Markdown or HTML)")
    p.add_argument("--out", help="FILE.md or FILE.html (default: Markdown on stdout)")
    p.add_argument("--lang", choices=["fr", "en"], default="fr")
    p.set_defaults(func=_cmd_model_card)

    p = sub.add_parser("bench", help="run the benchmarks and print one table")
    p.add_argument("--clients", type=int, default=20000)
    p.add_argument("--steps", help="comma-separated steps (default: all available)")
    p.add_argument("--home", help="PAD_HOME for the run (default: a temporary folder)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=3, help="runs per step; the table shows medians")
    p.add_argument("--partitions", default="4", metavar="P[,P…]",
                   help="step scale: the bucket counts to measure")
    p.add_argument("--workers", default="1,2", metavar="W[,W…]",
                   help="step scale: the local Dask worker counts (one thread each)")
    p.add_argument("--profile", type=int, nargs="?", const=15, default=0, metavar="N",
                   help="also print the N (default 15) slowest phases / dbt nodes of each step")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except BadInput as exc:
        print(f"pad {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailure as exc:
        print(f"pad {args.command}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BaseException as exc:
        # a stop signal, whatever it became on its way up (Stopped, KeyboardInterrupt, or
        # DuckDB's 'Query interrupted' when it landed inside a query): one line, exit 1
        stopped = stop_message(exc)
        if stopped is None:
            raise
        print(f"pad {args.command}: {stopped}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())

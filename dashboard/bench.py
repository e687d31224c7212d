"""Latency benchmarks of the serving side, for `pad bench` (DESIGN §6 targets), and the helpers
that start the API or the dashboard as a child process on a free loopback port (the UI tests
use them too).

- `measure_api`: a uvicorn child serving the published warehouse; `concurrency` client threads
  send a fixed mix of lookups over random client ids, after a warm-up; p50/p99 latency and
  throughput. Target: p99 ≤ 50 ms at 8 concurrent clients.
- `measure_dashboard`: the dashboard as a child process, Debian's Chromium through
  Playwright; the time from typing a client id (Enter) to the complete client page, for the
  first client of a freshly started server and (median) for the switches after it.
  Targets: a switch ≤ 1 s; the first client ≤ 2 × a switch.
"""
from __future__ import annotations

import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# JavaScript: true once every Bokeh view of the page has finished rendering
BOKEH_IDLE = """() => {
  const B = window.Bokeh;
  if (!B || !B.index) return false;
  const views = B.index.values ? [...B.index.values()] : Object.values(B.index);
  return views.length > 0 && views.every(v => v.has_finished());
}"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float,
               headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before {url} "
                               f"answered")
        try:
            if httpx.get(url, timeout=2.0, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


@contextmanager
def _child(command: list[str], ready_url: str, env: dict[str, str] | None,
           timeout: float, headers: dict[str, str] | None = None) -> Iterator[str]:
    full_env = {**os.environ, **(env or {})}
    # the child's stderr goes to a file: a pipe nobody reads could fill up and block it
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
        try:
            try:
                _wait_http(ready_url, process, timeout, headers)
            except RuntimeError as exc:
                stderr.seek(0)
                tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-5:]
                raise RuntimeError(f"{exc}: {' | '.join(tail)}") from None
            yield ready_url.removesuffix("/health") if ready_url.endswith("/health") \
                else ready_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def run_api(warehouse: Path, port: int | None = None, token: str | None = None,
            timeout: float = 180.0, env: dict[str, str] | None = None) -> Iterator[str]:
    """The lookup API on `warehouse` in a child process (`env` added to its environment);
    yields its base URL once it answers (it loads the warehouse into memory first: ≈ 10 s at
    full scale on an idle machine)."""
    port = port or free_port()
    code = ("import sys, uvicorn; from pathlib import Path; from dashboard.api import create_app; "
            "uvicorn.run(create_app(Path(sys.argv[1]), token=sys.argv[3] or None), "
            "host='127.0.0.1', port=int(sys.argv[2]), log_level='warning', access_log=False)")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    with _child([sys.executable, "-c", code, str(warehouse), str(port), token or ""],
                f"http://127.0.0.1:{port}/health", env, timeout, headers) as url:
        yield url


@contextmanager
def run_dashboard(warehouse: Path, port: int | None = None, api_url: str | None = None,
                  env: dict[str, str] | None = None, timeout: float = 180.0) -> Iterator[str]:
    """The dashboard on `warehouse` (or the API at `api_url`) in a child process; yields its
    root URL once it serves (it loads the warehouse and renders every page once first:
    10 to 45 s at full scale, depending on the machine's load)."""
    port = port or free_port()
    # another checkout on PYTHONPATH (before/after benchmarks): -P, else `-m` would put the
    # current folder first on the path and run its code instead
    isolated = ["-P"] if env and "PYTHONPATH" in env else []
    command = [sys.executable, *isolated, "-m", "dashboard.app", "--port", str(port),
               "--warehouse", str(warehouse)]
    if api_url:
        command += ["--api", api_url]
    # ready when it serves a static file: fetching the page itself would open a session and
    # warm the server up before the first real user
    with _child(command, f"http://127.0.0.1:{port}/static/js/bokeh.min.js", env, timeout):
        yield f"http://127.0.0.1:{port}/"


def sample_client_ids(warehouse: Path, n: int, seed: int = 0) -> list[int]:
    """`n` random client ids of the published warehouse (read-only)."""
    con = duckdb.connect(":memory:")
    try:
        escaped = str(warehouse).replace("'", "''")
        con.execute(f"attach '{escaped}' as published (read_only)")
        ids = [r[0] for r in con.execute(
            "select sk_id_curr from published.serving.clients").fetchall()]
    finally:
        con.close()
    rng = random.Random(seed)
    return [rng.choice(ids) for _ in range(n)]


def _feature_names(base_url: str) -> list[str]:
    items = httpx.get(f"{base_url}/features", timeout=10).json().get("items", [])
    return [f["feature_name"] for f in items]


def request_mix(client_ids: list[int], features: list[str], seed: int = 0) -> list[str]:
    """One request path per id: what the dashboard's client and comparison pages ask for,
    weighted towards the client page."""
    rng = random.Random(seed)
    paths = []
    for cid in client_ids:
        kind = rng.random()
        if kind < 0.2:
            paths.append(f"/clients/{cid}")
        elif kind < 0.45:
            paths.append(f"/clients/{cid}/score")
        elif kind < 0.7:
            paths.append(f"/clients/{cid}/explanation")
        elif kind < 0.8:
            paths.append(f"/clients/{cid}/similar?k=10")
        elif kind < 0.9 and features:
            group = rng.choice(["all", "similar", "outcome"])
            paths.append(f"/clients/{cid}/comparison?feature={rng.choice(features)}"
                         f"&group={group}")
        else:
            paths.append(f"/clients?q={str(cid)[:4]}&limit=20")
    return paths


def hammer(base_url: str, paths: list[str], concurrency: int,
           max_seconds: float, method: str = "GET", body: bytes | None = None,
           headers: dict[str, str] | None = None, ok: int = 200) -> dict[str, Any]:
    """Send `paths` from `concurrency` threads (each with its own keep-alive connection);
    latency percentiles over the requests done before `max_seconds` (GET by default; `method`,
    `body`, `headers` and the expected status `ok` for writes).

    The client is the standard library's `http.client`, not httpx: it runs on the same two
    cores as the server, and httpx spends ≈ 1.5 ms of CPU per request (measured here), which
    the server under test would lose. A real client runs elsewhere.
    """
    parsed = urlsplit(base_url)

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(paths)
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        connection = connect()
        try:
            while time.perf_counter() < deadline:
                with lock:
                    path = next(cursor, None)
                if path is None:
                    return
                started = time.perf_counter()
                try:
                    connection.request(method, path, body=body, headers=headers or {})
                    response = connection.getresponse()
                    response.read()
                    status = str(response.status)
                except (http.client.HTTPException, OSError) as exc:
                    # a dropped connection is a failed request, not the end of this client
                    connection.close()
                    connection = connect()
                    status = type(exc).__name__
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if status != str(ok):
                        errors.append(f"{status} {path}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    if not ordered:
        raise RuntimeError("no request completed")
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "rps": len(ordered) / wall,
        "seconds": wall,
    }


def warm_up_paths(client_ids: list[int], features: list[str], mixed: list[str]) -> list[str]:
    """What a server that has been running for a while has already seen: one comparison per
    feature and group (each fills a per-snapshot cache) and a stream of ordinary lookups
    (DuckDB reads and decompresses a table block the first time a query touches it)."""
    groups = ("all", "similar", "outcome")
    firsts = [f"/clients/{client_ids[i % len(client_ids)]}/comparison?feature={feature}"
              f"&group={group}" for i, (feature, group) in
              enumerate((f, g) for f in features for g in groups)]
    return firsts + mixed


def measure_api(warehouse_path: Path, concurrency: int = 8, requests: int = 2000,
                max_seconds: float = 60.0, warmup: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Lookup API latency on `warehouse_path` with `concurrency` concurrent clients.

    Starts uvicorn on a free loopback port in a child process, warms it up (`warm_up_paths`
    with `warmup` mixed requests, not measured), then sends `requests` requests of the mix in
    `request_mix` over other random client ids (bounded by `max_seconds`). Returns p50_ms,
    p99_ms, max_ms, rps, requests, errors, seconds, concurrency.
    """
    warehouse_path = Path(warehouse_path)
    ids = sample_client_ids(warehouse_path, requests + warmup, seed)
    with run_api(warehouse_path) as base_url:
        features = _feature_names(base_url)
        paths = request_mix(ids, features, seed)
        hammer(base_url, warm_up_paths(ids, features, paths[:warmup]), min(concurrency, 8),
               max_seconds)
        result = hammer(base_url, paths[warmup:], concurrency, max_seconds)
    return {**result, "concurrency": concurrency}


def _open_client(page: Any, field: Any, cid: int, timeout: float) -> float:
    """Seconds from pressing Enter on `cid` to its complete client page: the summary names
    the client and every Bokeh view has finished rendering."""
    field.fill(str(cid))
    started = time.perf_counter()
    field.press("Enter")
    page.locator(f"[data-testid=client-summary][data-client='{cid}']").wait_for(
        timeout=timeout * 1000)
    page.wait_for_function(BOKEH_IDLE, timeout=timeout * 1000)
    return time.perf_counter() - started


def measure_dashboard(warehouse_path: Path, switches: int = 10, seed: int = 0,
                      timeout: float = 30.0, env: dict[str, str] | None = None
                      ) -> dict[str, float]:
    """The first client on a freshly started dashboard, and the median later switch.

    The dashboard runs as a child process on `warehouse_path` (`env` lets a benchmark run
    another checkout of the code); nothing touches it before the browser does: the readiness
    probe fetches a static file, which opens no session. Chromium (Playwright, Debian's
    /usr/bin/chromium) opens the page, then types each id and presses Enter (`_open_client`).
    Returns `page_s` (the empty page, loaded and rendered), `first_client_s` (the first id:
    what the first user of a new server waits) and `switch_s` (median of the `switches` ids
    after it).
    """
    from playwright.sync_api import sync_playwright

    ids = list(dict.fromkeys(sample_client_ids(Path(warehouse_path), switches * 3 + 1, seed)))
    ids = ids[:switches + 1]
    times: list[float] = []
    with run_dashboard(Path(warehouse_path), env=env) as url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            page.goto(f"{url}?lang=en", wait_until="networkidle")  # the English placeholder below
            page.wait_for_function(BOKEH_IDLE, timeout=timeout * 1000)
            page_s = time.perf_counter() - started
            field = page.get_by_placeholder("Client id or its first digits")
            times = [_open_client(page, field, cid, timeout) for cid in ids]
        finally:
            browser.close()
    later = times[1:] if len(times) > 1 else times
    return {"page_s": page_s, "first_client_s": times[0],
            "switch_s": statistics.median(later)}


def measure_dashboard_switch(warehouse_path: Path, switches: int = 10, seed: int = 0,
                             timeout: float = 30.0) -> float:
    """Median seconds from entering a new client id to its complete client page, the first
    client excepted (`measure_dashboard` reports that one too)."""
    return measure_dashboard(warehouse_path, switches, seed, timeout)["switch_s"]


def main(argv: list[str] | None = None) -> int:
    """`python -m dashboard.bench WAREHOUSE [--concurrency 8 32]`: print both measurements."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dashboard.bench")
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--switches", type=int, default=10)
    args = parser.parse_args(argv)
    for concurrency in args.concurrency:
        r = measure_api(args.warehouse, concurrency=concurrency, requests=args.requests)
        print(f"api  concurrency={concurrency:<3} requests={r['requests']:<6} "
              f"p50={r['p50_ms']:.1f} ms  p99={r['p99_ms']:.1f} ms  {r['rps']:.0f} req/s  "
              f"errors={r['errors']}")
    times = measure_dashboard(args.warehouse, switches=args.switches)
    print(f"dashboard first client {times['first_client_s']:.3f} s, "
          f"switch client: median {times['switch_s']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

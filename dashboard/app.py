"""The Panel dashboard (`pad dashboard`): advisor pages and a client's own view.

The shell: one `DashboardApp` per browser session (search, the advisor pages' tabs or a
client's own view, the URL deep links `/?client=<id>`, `/?client=<id>&view=client`),
`create_app`, `warm_up` and `serve`. Each page is its own module under `dashboard/pages/`;
formatting and HTML helpers are in `dashboard.formatting`. Data comes only through a
`dashboard.source.DataSource` (in-process lookup or the HTTP API); charts come from
`dashboard.plots`.

Pages (advisor): Client (find by id or prefix with server-side search, gauge, decision, score,
reasons, waterfall, descriptive data), Comparison (client vs all / similar / same-outcome
clients; univariate and bivariate), Portfolio, Model. Only the visible page renders: the app
hands the selected client to the active page, so switching clients costs one page, not four.
"""
from __future__ import annotations

import argparse
import gc
import html
import secrets
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import panel as pn
import param
from bokeh.document import Document
from jinja2 import Template
from panel.io.resources import _env as panel_templates
from panel.io.state import set_curdoc
from panel.viewable import Viewer

from dashboard.config import (
    DASHBOARD_HOST,
    DASHBOARD_PORT,
    api_token,
    dashboard_cookie_secret,
    dashboard_origins,
    dashboard_password,
    is_loopback,
    lookup_threads,
)
from dashboard.formatting import language_switch_html, message
from dashboard.lookup import InvalidRequest, Lookup, WarehouseUnavailable
from dashboard.pages.base import Page
from dashboard.pages.client import ClientPage
from dashboard.pages.comparison import ComparisonPage
from dashboard.pages.model import ModelPage
from dashboard.pages.monitoring import MonitoringPage, alerts_banner
from dashboard.pages.portfolio import PortfolioPage
from dashboard.pages.search import ClientSearch
from dashboard.pages.selfview import ClientSelfView
from dashboard.source import DataSource, open_source
from dashboard.texts import N_, session_language, texts
from warehouse.config import PadPaths, pad_paths
from warehouse.errors import BadInput, RunFailure

TITLE = N_("Prêt à dépenser — credit decisions")
# tabs: URL code → title
PAGES = {"client": N_("Client"), "comparison": N_("Comparison"), "portfolio": N_("Portfolio"),
         "model": N_("Model"), "monitoring": N_("Monitoring")}


class DashboardApp(Viewer):
    """One browser session: search, the advisor pages, or a client's own view, in one language.

    `client`, `view` and `page` mirror the URL (`?client=…&view=client&page=comparison`) both
    ways; the language comes from `?lang=`, else the browser's Accept-Language, else French,
    and stays for the session (the switch links reload the same URL in the other language).
    """

    client = param.String(default="", doc="client id as in the URL")
    view = param.String(default="advisor", doc="'advisor', or 'client' for the client's view")
    page = param.String(default="client", doc="the advisor tab shown (a key of PAGES)")
    client_id = param.Integer(default=None, allow_None=True, doc="the parsed client id")

    def __init__(self, source: DataSource, desk: Any = None, lang: str | None = None,
                 **params: Any) -> None:
        super().__init__(**params)
        self._source = source
        args = pn.state.session_args or {}
        initial = {key: args[key][0].decode("utf-8", "replace")
                   for key in ("client", "view", "page", "lang") if args.get(key)}
        self.tr = tr = texts(lang or session_language(initial.pop("lang", None),
                                                      (pn.state.headers or {}).get(
                                                          "Accept-Language")))
        self.search = ClientSearch(source, tr)
        self.pages: dict[str, Page] = {"client": ClientPage(source, tr),
                                       "comparison": ComparisonPage(source, tr),
                                       "portfolio": PortfolioPage(source, tr),
                                       "model": ModelPage(source, tr),
                                       "monitoring": MonitoringPage(source, tr)}
        self.self_view = ClientSelfView(source, tr)
        self.decisions = None          # the decision record's views, when a desk is given
        if desk is not None:
            from dashboard.pages.hook import decision_views

            self.decisions = decision_views(source, desk, tr)
            self.pages["client"].decision_panel = self.decisions.panel
            self.self_view.contest_box = self.decisions.contest
        self.tabs = pn.Tabs(*((tr._(PAGES[key]), page) for key, page in self.pages.items()),
                            sizing_mode="stretch_width")
        self.switch = pn.pane.HTML(sizing_mode="stretch_width")
        self.search.param.watch(
            lambda e: self.param.update(client="" if e.new is None else str(e.new)), "client_id")
        self.tabs.param.watch(lambda e: self.param.update(page=list(PAGES)[e.new]), "active")
        # deep links: the request's query first (available while the session is created),
        # then keep the URL in step with the selected client and page
        with param.parameterized.discard_events(self):
            self.param.update(**initial)
        if self.page in PAGES:
            self.tabs.active = list(PAGES).index(self.page)
        if pn.state.location is not None:
            pn.state.location.sync(self, {"client": "client", "view": "view", "page": "page"})
        if pn.state.curdoc is not None:
            pn.state.curdoc.title = tr._(TITLE)
        self._parse_client()

    @param.depends("client", watch=True)
    def _parse_client(self) -> None:
        text = self.client.strip()
        self.client_id = int(text) if text.isdigit() and text.isascii() and len(text) < 19 \
            else None
        if self.client_id is not None and self.search.client_id != self.client_id:
            self.search.pick(self.client_id)
        self._show()

    @param.depends("view", "page", watch=True)
    def _show(self) -> None:
        self.switch.object = language_switch_html(self.tr, {
            "client": self.client, "view": self.view if self.view == "client" else "",
            "page": self.page if self.view != "client" and self.page != "client" else ""})
        if self.view == "client":
            self.self_view.client_id = self.client_id
            self.self_view.refresh()
            return
        if self.decisions is not None:     # no client chosen: the advisor's work list
            self.decisions.worklist.view.visible = self.client_id is None
            if self.client_id is None:
                self.decisions.worklist.refresh()
        page = self.pages[list(PAGES)[self.tabs.active]]
        page.client_id = self.client_id
        page.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.panel(self._layout, sizing_mode="stretch_width")

    @param.depends("view")
    def _layout(self) -> pn.viewable.Viewable:
        tr = self.tr
        health = self._source.health()
        notice = [] if health.status == "ok" else [message(
            tr._("No published data can be read yet. Reload this page once a refresh has "
                 "published the warehouse."), "warning")]
        if self.view == "client":
            title = tr._("Prêt à dépenser — your credit file")
            return pn.Column(self.switch, title_pane(title), *notice, self.self_view,
                             max_width=1200, sizing_mode="stretch_width")
        worklist = [] if self.decisions is None else [self.decisions.identity,
                                                      self.decisions.worklist.view]
        return pn.Column(self.switch, title_pane(tr._(TITLE)), *notice,
                         *alerts_banner(self._source, tr), *worklist, self.search, self.tabs,
                         max_width=1400, sizing_mode="stretch_width")


def title_pane(title: str) -> pn.pane.HTML:
    return pn.pane.HTML(f"<h1 style='font-size:1.5em;margin:0'>{html.escape(title)}</h1>",
                        sizing_mode="stretch_width")


@cache
def page_template(lang: str) -> Template:
    """Panel's page template with `<html lang>` in the session's language (screen readers
    read the page with the right voice; axe checks it)."""
    source = panel_templates.loader.get_source(panel_templates, "base.html")[0]
    return panel_templates.from_string(source.replace('<html lang="en"', f'<html lang="{lang}"'))


def create_app(source: DataSource, desk: Any = None, lang: str | None = None) -> DashboardApp:
    """One session's app (pn.serve calls this for every browser session); `desk` (a
    dashboard.pages.desk.DecisionDesk) mounts the work list and the decision record."""
    app = DashboardApp(source, desk, lang)
    if pn.state.curdoc is not None:
        pn.state.curdoc.template = page_template(app.tr.lang)
    return app


def warm_up(source: DataSource) -> float:
    """Render every page once, offline, for one published client; returns the seconds spent.

    `serve` calls this before it listens, so the first user does not pay what only the first
    render in a process costs: the lookup's per-snapshot tables (in-process: `Lookup.warm`
    loads every block of explanations too, ≈ 8 s of CPU and 1.5 GB at 356k clients, which
    spares each later switch ≈ 0.2 s of block loading), feature values and bins, the first
    HoloViews/Bokeh plot of each kind, and the modules those import lazily. Nothing happens
    without a published warehouse.
    """
    started = time.perf_counter()
    try:
        if source.health().status != "ok":
            return 0.0
        if isinstance(source, Lookup):
            source.warm()
        found = source.search_clients(limit=1).items
    except (WarehouseUnavailable, InvalidRequest):
        return 0.0
    if not found:
        return 0.0
    doc = Document()
    with set_curdoc(doc):
        app = create_app(source)
        layout = pn.panel(app)
        root = layout.get_root(doc)
        app.client = str(found[0].sk_id_curr)
        for index in range(len(app.pages)):
            app.tabs.active = index
        app.view = "client"
        layout._cleanup(root)
    return time.perf_counter() - started


def websocket_origins(host: str, port: int) -> list[str]:
    if is_loopback(host):
        origins = [f"localhost:{port}", f"127.0.0.1:{port}"]
    elif host in ("0.0.0.0", "::"):
        origins = ["*"]  # any name the machine is reached by; the login still applies
    else:
        origins = [f"{host}:{port}"]
    return origins + dashboard_origins()


def check_binding(host: str, password: str | None) -> None:
    """Refuse an off-loopback dashboard without a login password (BadInput: exit 2)."""
    if not is_loopback(host) and not password:
        raise BadInput(f"serving the dashboard on {host} requires a login: set the environment "
                       f"variable PAD_DASHBOARD_PASSWORD")


def serve(host: str = DASHBOARD_HOST, port: int = DASHBOARD_PORT, api_url: str | None = None,
          paths: PadPaths | None = None, show: bool = False,
          warehouse: Path | None = None) -> None:
    """Serve the dashboard in the foreground (`pad dashboard`) until interrupted.

    Reads the published warehouse (`warehouse`, default `paths.warehouse`) in-process, or the
    lookup API at `api_url`. Off loopback a login (Panel basic auth, password from
    PAD_DASHBOARD_PASSWORD) is required.
    """
    paths = paths or pad_paths()
    warehouse = warehouse or paths.warehouse
    password = dashboard_password()
    check_binding(host, password)
    source = open_source(warehouse, api_url, token=api_token(), threads=lookup_threads())
    from dashboard.pages.desk import open_desk

    desk = open_desk(PadPaths(warehouse.parent), source)   # the store beside the warehouse
    pn.extension(sizing_mode="stretch_width", notifications=False)
    seconds = warm_up(source)
    # what the warm-up loaded lives as long as the snapshot (≈ 300k objects at full scale): out
    # of the cyclic collector's reach, else each full collection (0.2–0.7 s measured) lands on
    # some user's click, most often the first one's
    gc.collect()
    gc.freeze()
    print(f"pad dashboard: warmed up in {seconds:.1f} s", file=sys.stderr, flush=True)
    auth: dict[str, Any] = {}
    if password:
        auth = {"basic_auth": password,
                "cookie_secret": dashboard_cookie_secret() or secrets.token_hex(32)}
    print(f"pad dashboard: http://{host}:{port}/ (data: {api_url or warehouse})"
          + (" — login required" if password else ""), file=sys.stderr, flush=True)
    try:
        pn.serve(lambda: create_app(source, desk), address=host, port=port, show=show,
                 title="Prêt à dépenser", websocket_origin=websocket_origins(host, port),
                 admin=False, **auth)
    except OSError as exc:  # typically: the port is taken
        raise RunFailure(f"cannot serve the dashboard on {host}:{port}: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """`python -m dashboard.app`: the dashboard on an explicit warehouse file (tests, bench)."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.app")
    parser.add_argument("--host", default=DASHBOARD_HOST)
    parser.add_argument("--port", type=int, default=DASHBOARD_PORT)
    parser.add_argument("--api", default=None, help="lookup API URL (default: in-process)")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="published warehouse file (default $PAD_HOME/warehouse.duckdb)")
    args = parser.parse_args(argv)
    try:
        serve(host=args.host, port=args.port, api_url=args.api, warehouse=args.warehouse)
    except BadInput as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

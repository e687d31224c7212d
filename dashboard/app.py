"""The Panel dashboard (`pad dashboard`): advisor pages and a client's own view.

Owns the page components (`pn.viewable.Viewer`s whose state is params), their layout, the URL
deep links (`/?client=<id>`, `/?client=<id>&view=client`) and `serve`. Data comes only through a
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import panel as pn
import param
from bokeh.document import Document
from panel.io.state import set_curdoc
from panel.viewable import Viewer

from dashboard import plots
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
from dashboard.html_charts import gauge_html, waterfall_html
from dashboard.lookup import ClientNotFound, InvalidRequest, Lookup, WarehouseUnavailable
from dashboard.schemas import ClientRecord, ClientScore, Explanation, FamilyContribution
from dashboard.source import DataSource, open_source
from dashboard.theme import (
    DECISION_BADGES,
    DECISION_WORDS,
    GROUP_LABELS,
    MUTED_TEXT,
    PANEL_BACKGROUND,
    TEXT,
)
from warehouse.config import PadPaths, pad_paths
from warehouse.errors import BadInput, RunFailure

TITLE = "Prêt à dépenser — credit decisions"
PAGES = ("Client", "Comparison", "Portfolio", "Model", "Monitoring")
SUGGESTIONS = 8
STYLE = f"""
<style>
  .pad-card {{ background: {PANEL_BACKGROUND}; color: {TEXT}; border-radius: 6px;
              padding: 10px 14px; }}
  .pad-card h3 {{ margin: 0 0 6px 0; font-size: 1.05em; }}
  .pad-card table {{ border-collapse: collapse; width: 100%; }}
  .pad-card th {{ text-align: left; font-weight: normal; color: {MUTED_TEXT};
                 padding: 2px 10px 2px 0; }}
  .pad-card td {{ padding: 2px 0; font-weight: 600; }}
  .pad-muted {{ color: {MUTED_TEXT}; }}
  .pad-badge {{ display: inline-block; padding: 3px 12px; border-radius: 4px;
               font-weight: 700; font-size: 1.1em; }}
  .pad-table {{ border-collapse: collapse; font-size: 0.95em; color: {TEXT}; }}
  .pad-table th, .pad-table td {{ border-bottom: 1px solid #d0d4d9; padding: 3px 10px;
                                 text-align: left; }}
</style>
"""

# --- formatting: values in words an advisor can read out ------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def fmt_text(value: Any) -> str:
    return "unknown" if _missing(value) or value == "XNA" else str(value)


def fmt_int(value: Any) -> str:
    return "unknown" if _missing(value) else f"{int(value):,}"


def fmt_money(value: Any) -> str:
    return "unknown" if _missing(value) else f"{float(value):,.0f}"


def fmt_bool(value: Any) -> str:
    return "unknown" if _missing(value) else ("yes" if value else "no")


def fmt_score01(value: Any) -> str:
    return "not available" if _missing(value) else f"{float(value):.2f}"


def fmt_years_employed(value: Any) -> str:
    return "not employed" if _missing(value) else f"{float(value):.1f} years"


def fmt_number(value: Any) -> str:
    if _missing(value):
        return "missing"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}"


def _ratio(record: ClientRecord, top: str, bottom: str) -> float | None:
    a, b = getattr(record, top), getattr(record, bottom)
    return None if _missing(a) or _missing(b) or not b else float(a) / float(b)


Field = tuple[str, str, Callable[[ClientRecord], str]]


def _field(name: str, label: str, fmt: Callable[[Any], str]) -> Field:
    return name, label, lambda r: fmt(getattr(r, name, None))


PROFILE_GROUPS: list[tuple[str, list[Field]]] = [
    ("Identity and family", [
        _field("age_years", "Age", lambda v: "unknown" if _missing(v) else f"{int(v)} years"),
        _field("gender", "Gender", fmt_text),
        _field("family_status", "Family status", fmt_text),
        _field("children", "Children", fmt_int),
        _field("education", "Education", fmt_text),
        _field("region_rating", "Region rating (1 best, 3 weakest)", fmt_int),
    ]),
    ("Income and employment", [
        _field("income_type", "Income type", fmt_text),
        _field("occupation", "Occupation", fmt_text),
        _field("organization", "Employer type", fmt_text),
        _field("years_employed", "Time in current job", fmt_years_employed),
        _field("income", "Total income", fmt_money),
        _field("own_car", "Owns a car", fmt_bool),
        _field("own_realty", "Owns real estate", fmt_bool),
    ]),
    ("The credit asked", [
        _field("contract_type", "Contract", fmt_text),
        _field("credit_amount", "Credit amount", fmt_money),
        _field("annuity", "Annuity (regular repayment)", fmt_money),
        _field("goods_price", "Price of the goods financed", fmt_money),
        ("_annuity_income", "Annuity / income",
         lambda r: "unknown" if (v := _ratio(r, "annuity", "income")) is None else f"{v:.1%}"),
        ("_credit_annuity", "Credit / annuity (number of annuities)",
         lambda r: "unknown" if (v := _ratio(r, "credit_amount", "annuity")) is None
         else f"{v:.1f}"),
    ]),
    ("History here and elsewhere", [
        _field("bureau_loans", "Loans reported by other lenders", fmt_int),
        _field("bureau_active_loans", "… of which still active", fmt_int),
        _field("previous_applications", "Previous applications with us", fmt_int),
        _field("previous_refused", "… of which refused", fmt_int),
        _field("ext_source_1", "External score 1 (0–1, higher is better)", fmt_score01),
        _field("ext_source_2", "External score 2 (0–1, higher is better)", fmt_score01),
        _field("ext_source_3", "External score 3 (0–1, higher is better)", fmt_score01),
    ]),
]


def profile_html(record: ClientRecord) -> str:
    """The descriptive data in four labelled groups (semantic tables)."""
    cards = []
    for title, fields in PROFILE_GROUPS:
        rows = "".join(f"<tr><th scope='row'>{html.escape(label)}</th>"
                       f"<td>{html.escape(fmt(record))}</td></tr>" for _, label, fmt in fields)
        cards.append(f"<section class='pad-card' style='flex:1 1 260px'>"
                     f"<h3>{html.escape(title)}</h3><table>{rows}</table></section>")
    return (STYLE + "<div data-testid='client-profile' style='display:flex;flex-wrap:wrap;"
            "gap:12px'>" + "".join(cards) + "</div>")


def decision_sentence(score: ClientScore) -> str:
    """Where the score stands against the cutoff (refuse when score ≤ cutoff)."""
    cutoff = round(score.score_cutoff)
    if score.decision == "grant":
        return (f"{score.score - cutoff} points above the refusal cutoff: applications scoring "
                f"{cutoff} points or less are refused.")
    return (f"{cutoff + 1 - score.score} points short of the {cutoff + 1} points needed to be "
            f"granted.")


def badge(decision: str) -> str:
    fg, bg = DECISION_BADGES.get(decision, (TEXT, PANEL_BACKGROUND))
    symbol = "✓" if decision == "grant" else "✗"
    word = DECISION_WORDS.get(decision, decision)
    return (f"<span class='pad-badge' data-testid='decision' style='color:{fg};"
            f"background:{bg}'>{symbol} {html.escape(word)}</span>")


def summary_html(score: ClientScore) -> str:
    """Decision, score, band and probability; `data-client` marks whose page is shown."""
    return (
        STYLE + f"<div data-testid='client-summary' data-client='{score.sk_id_curr}' "
        f"data-decision='{html.escape(score.decision)}' style='color:{TEXT}'>"
        f"<h2 style='margin:0 0 6px 0'>Client {score.sk_id_curr} {badge(score.decision)}</h2>"
        f"<div style='font-size:1.15em'><b data-testid='score'>Score {score.score} points</b>"
        f" · risk band <b>{html.escape(score.risk_band)}</b> (A safest, E riskiest) · "
        f"estimated probability of payment difficulties "
        f"<b>{score.probability_default:.1%}</b> (refused above {score.threshold:.1%})</div>"
        f"<div class='pad-muted'>{html.escape(decision_sentence(score))} "
        f"Model {html.escape(score.model_version)}.</div></div>")


def favourable_families(families: Iterable[FamilyContribution], top: int = 3) -> list[
        FamilyContribution]:
    return sorted((f for f in families if f.points > 0.5), key=lambda f: -f.points)[:top]


def reasons_html(explanation: Explanation, for_client: bool = False) -> str:
    """The reasons in plain words, and what worked in the client's favour."""
    against = "".join(f"<li>{html.escape(r.reason_text)} <span class='pad-muted'>"
                      f"({r.points:+.0f} points)</span></li>" for r in explanation.reasons)
    favour = "".join(f"<li>{html.escape(f.family_label)} <span class='pad-muted'>"
                     f"({f.points:+.0f} points)</span></li>"
                     for f in favourable_families(explanation.families))
    you = "your" if for_client else "the"
    none_against = (f"<p>Nothing in {you} file lowers the score notably.</p>")
    return (
        STYLE + f"<div style='display:flex;flex-wrap:wrap;gap:12px;color:{TEXT}'>"
        f"<section class='pad-card' style='flex:1 1 320px'>"
        f"<h3>What lowers {you} score</h3>"
        + (f"<ol data-testid='reasons'>{against}</ol>" if against else none_against)
        + "</section><section class='pad-card' style='flex:1 1 320px'>"
        f"<h3>What raises {you} score</h3>"
        + (f"<ul data-testid='favourable'>{favour}</ul>" if favour else "<p>—</p>")
        + "</section></div>")


def html_table(frame: pd.DataFrame, testid: str) -> pn.pane.HTML:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return pn.pane.HTML(STYLE + f"<table class='pad-table' data-testid='{testid}'><thead><tr>"
                        f"{head}</tr></thead><tbody>{body}</tbody></table>",
                        sizing_mode="stretch_width")


def message(text: str, kind: str = "info") -> pn.pane.Alert:
    # Panel's own alert text colours miss WCAG AA on their backgrounds (3.9:1 and 4.3:1)
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width",
                         stylesheets=[f":host(.alert.alert-{kind}) {{ color: {TEXT}; }}"])


def guarded(render: Callable[[], pn.viewable.Viewable]) -> pn.viewable.Viewable:
    """Run a page render, turning data errors into messages an advisor understands."""
    try:
        return render()
    except WarehouseUnavailable as exc:
        return message(f"The warehouse is not available: {exc}", "warning")
    except ClientNotFound as exc:
        return message(f"{exc}. Check the id, or search by its first digits.", "warning")
    except InvalidRequest as exc:
        return message(f"That request cannot be answered: {exc}", "warning")


def _chart(plot: Any, **params: Any) -> pn.pane.HoloViews:
    # unlinked: Panel would otherwise share ranges between charts whose axes have the same
    # dimension name (the gauge's score axis would follow the waterfall's)
    return pn.pane.HoloViews(plot, linked_axes=False, **params)


def _frame(records: Iterable[Any]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


# --- components ------------------------------------------------------------------------------


class ClientSearch(Viewer):
    """Find a client by typed id or by its first digits (server-side prefix search)."""

    client_id = param.Integer(default=None, allow_None=True, doc="the client picked")
    status = param.String(default="", doc="what the search found, in words")

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(**params)
        self._source = source
        self._input = pn.widgets.TextInput(
            name="Find a client", placeholder="Client id or its first digits, e.g. 1001",
            max_length=19, width=320)
        self._open = pn.widgets.Button(name="Open", button_type="primary", width=80,
                                       align="end")
        self._suggestions = pn.Row(sizing_mode="stretch_width")
        self._status = pn.pane.HTML("", sizing_mode="stretch_width")
        self._input.param.watch(lambda e: self.suggest(e.new), "value_input")
        self._input.param.watch(lambda e: self.open(self._input.value_input), "enter_pressed")
        self._open.on_click(lambda e: self.open(self._input.value_input))

    @param.depends("status", watch=True)
    def _show_status(self) -> None:
        self._status.object = (f"<span class='pad-muted' data-testid='search-status'>"
                               f"{html.escape(self.status)}</span>")

    def suggest(self, text: str | None) -> None:
        """Up to 8 ids starting with the typed digits, as buttons."""
        text = (text or "").strip()
        if self.client_id is not None and text == str(self.client_id):
            return  # the id of the client just opened, not a new search
        if not text.isdigit() or not text.isascii():
            self._suggestions.objects = []
            self.status = "Type the digits of a client id." if text else ""
            return
        try:
            page = self._source.search_clients(q=text, limit=SUGGESTIONS)
        except (WarehouseUnavailable, InvalidRequest) as exc:
            self.status = str(exc)
            return
        buttons = []
        for item in page.items:
            label = f"{item.sk_id_curr} · {DECISION_WORDS.get(item.decision or '', '—')}"
            button = pn.widgets.Button(name=label, button_type="light", width=170)
            button.on_click(lambda e, cid=item.sk_id_curr: self.pick(cid))
            buttons.append(button)
        self._suggestions.objects = buttons
        more = page.total - len(page.items)
        self.status = (f"No client id starts with {text}." if page.total == 0 else
                       f"{page.total:,} client(s) start with {text}"
                       + (f" ({more:,} more: type more digits)." if more > 0 else "."))

    def open(self, text: str | None) -> None:
        """Open the client with exactly this id, or the only one starting with it."""
        text = (text or "").strip()
        if not text.isdigit() or not text.isascii():
            self.status = "Type the digits of a client id."
            return
        try:
            page = self._source.search_clients(q=text, limit=SUGGESTIONS)
        except (WarehouseUnavailable, InvalidRequest) as exc:
            self.status = str(exc)
            return
        exact = [i for i in page.items if i.sk_id_curr == int(text)]
        if exact or page.total == 1:
            self.pick((exact or page.items)[0].sk_id_curr)
        else:
            self.suggest(text)

    def pick(self, sk_id_curr: int) -> None:
        # the id first: writing it into the field below must not trigger a new search
        self.client_id = sk_id_curr
        self._suggestions.objects = []
        self.status = ""
        self._input.param.update(value=str(sk_id_curr), value_input=str(sk_id_curr))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self._input, self._open), self._suggestions, self._status,
                         sizing_mode="stretch_width")


class Page(Viewer):
    """A page that renders itself when its client changes (only the visible page does)."""

    client_id = param.Integer(default=None, allow_None=True)

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(**params)
        self._source = source
        self._body = pn.Column(sizing_mode="stretch_width")
        self._rendered_for: tuple[Any, ...] | None = None

    def state(self) -> tuple[Any, ...]:
        """What the page shows; it re-renders only when this changes."""
        return (self.client_id,)

    def refresh(self) -> None:
        if self.state() == self._rendered_for:
            return
        self._body.objects = [guarded(self.render)]
        # after the render: a first render may fill in defaults (e.g. the features shown)
        self._rendered_for = self.state()

    def render(self) -> pn.viewable.Viewable:
        raise NotImplementedError

    def __panel__(self) -> pn.viewable.Viewable:
        return self._body


WATERFALL_INTRO = ("From the average client's score, each bar adds (blue, to the right) or "
                   "removes (vermillion, to the left) points; the values are printed at the "
                   "end of each row.")
CLIENT_PROMPT = "Type a client id (or its first digits) above to see its decision."


def client_page_html(score: ClientScore, explanation: Explanation, record: ClientRecord,
                     bands: pd.DataFrame) -> str:
    """The whole client page as one HTML fragment: summary, gauge, reasons, waterfall (when
    the explanation has drivers) and descriptive data."""
    waterfall = ""
    if explanation.drivers:
        steps = plots.waterfall_steps(_frame(explanation.drivers), _frame(explanation.families))
        waterfall = (f"<h3>How the score is built</h3><p>{html.escape(WATERFALL_INTRO)}</p>"
                     + waterfall_html(steps, explanation.base_points, explanation.score))
    return (summary_html(score) + gauge_html(score.score, score.score_cutoff, bands)
            + reasons_html(explanation) + waterfall + "<h3>Descriptive data</h3>"
            + profile_html(record))


class ClientPage(Page):
    """Decision, score, gauge, reasons, waterfall and descriptive data of one client.

    One HTML pane for the whole page, created with the session and showing a prompt until a
    client is picked: every client, the first one included, is then one replacement of its
    text. (A Panel component per part cost the first client of a browser session three
    times a switch: the browser built a view for each of them.)
    """

    decision_panel: Any = None     # dashboard.pages.decisions.DecisionPanel, when mounted

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(source, **params)
        self._pane = pn.pane.HTML(sizing_mode="stretch_width")
        self._with_decisions: pn.Column | None = None
        from dashboard.pages.whatif import RecourseBlock, WhatIfPanel  # imports this module
        self._recourse, self._whatif = RecourseBlock(source), WhatIfPanel(source)

    def __panel__(self) -> pn.viewable.Viewable:
        # the what-if card below the client's page, built with the session (not per client)
        return pn.Column(self._body, self._whatif, sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        if self.client_id is None:
            self._pane.object = (f"<p class='pad-prompt' style='color:{TEXT}'>"
                                 f"{html.escape(CLIENT_PROMPT)}</p>")
            return self._pane
        cid = self.client_id
        score = self._source.score(cid)
        record, bands = self._source.client(cid), _frame(self._source.portfolio().bands)
        self._pane.object = client_page_html(score, self._source.explanation(cid), record,
                                             bands) + self._recourse.html(score, record.population)
        self._whatif.show(cid, bands)
        if self.decision_panel is None:
            return self._pane
        self.decision_panel.show(cid, score)
        # one layout for every client, like the pane: a switch replaces contents only
        self._with_decisions = self._with_decisions or pn.Column(
            self._pane, self.decision_panel.view, sizing_mode="stretch_width")
        return self._with_decisions


class ComparisonPage(Page):
    """The client against all, similar or same-outcome clients, one or two features."""

    feature = param.String(default="", doc="feature of the histogram")
    group = param.Selector(default="all", objects=["all", "similar", "outcome"])
    x_feature = param.String(default="", doc="horizontal feature of the scatter")
    y_feature = param.String(default="", doc="vertical feature of the scatter")

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(source, **params)
        self._feature_select = pn.widgets.Select(name="Feature", width=320)
        self._group_select = pn.widgets.RadioButtonGroup(
            name="Compare with", options={"All clients": "all", "Similar clients": "similar",
                                          "Same outcome (repaid / difficulties)": "outcome"},
            value="all", button_type="primary", button_style="outline")
        self._x_select = pn.widgets.Select(name="Horizontal axis", width=300)
        self._y_select = pn.widgets.Select(name="Vertical axis", width=300)
        for widget, name in ((self._feature_select, "feature"), (self._group_select, "group"),
                             (self._x_select, "x_feature"), (self._y_select, "y_feature")):
            widget.link(self, value=name)

    def state(self) -> tuple[Any, ...]:
        return (self.client_id, self.feature, self.group, self.x_feature, self.y_feature)

    @param.depends("feature", "group", "x_feature", "y_feature", watch=True)
    def _controls_changed(self) -> None:
        self.refresh()

    def _load_features(self) -> None:
        if self._feature_select.options:
            return
        options = {f"{f.feature_label} ({f.feature_name})": f.feature_name
                   for f in self._source.features().items}
        if not options:
            raise WarehouseUnavailable("no comparable features published "
                                       "(serving.client_feature_values)")
        names = list(options.values())
        # defaults: the most important features; set quietly, the render below uses them
        with param.parameterized.discard_events(self):
            for select in (self._feature_select, self._x_select, self._y_select):
                select.options = options
            self.feature = self._feature_select.value = names[0]
            self.x_feature = self._x_select.value = names[0]
            self.y_feature = self._y_select.value = names[1 if len(names) > 1 else 0]

    def render(self) -> pn.viewable.Viewable:
        if self.client_id is None:
            return message("Pick a client first (search above).")
        self._load_features()
        cid = self.client_id
        comparison = self._source.comparison(cid, self.feature, self.group)
        bins = _frame(comparison.bins)
        histogram = plots.comparison_histogram(bins, comparison.client_value,
                                               comparison.feature_label)
        scatter = self._source.scatter(cid, self.x_feature, self.y_feature)
        similar = self._source.similar(cid, 10)
        similar_frame = pd.DataFrame([{
            "client": s.sk_id_curr, "distance": f"{s.distance:.3f}",
            "outcome": {0: "repaid", 1: "had difficulties"}.get(s.target, "pending"),
            "score": s.score, "decision": DECISION_WORDS.get(s.decision or "", "—")}
            for s in similar.items])
        return pn.Column(
            pn.Row(self._feature_select, self._group_select),
            pn.pane.HTML(f"<p data-testid='comparison-summary' style='color:{TEXT}'>"
                         f"{html.escape(position_sentence(bins, comparison.client_value))}</p>",
                         sizing_mode="stretch_width"),
            _chart(histogram, sizing_mode="stretch_width"),
            pn.pane.Markdown("### Two features at once\nA fixed sample of clients; circles "
                             "repaid, triangles had difficulties, squares are pending; the "
                             "star is this client."),
            pn.Row(self._x_select, self._y_select),
            _chart(plots.feature_scatter(
                _frame(scatter.points), scatter.client.x, scatter.client.y,
                scatter.x_feature.feature_label, scatter.y_feature.feature_label),
                sizing_mode="stretch_width"),
            pn.pane.Markdown("### The 10 most similar clients with a known outcome"),
            html_table(similar_frame, "similar-clients") if len(similar_frame) else
            message("No similar clients published for this client."),
            sizing_mode="stretch_width")


def position_sentence(bins: pd.DataFrame, value: float | None) -> str:
    """Where the client's value sits in each group, from the histogram bins."""
    if value is None:
        return "This client has no value for this feature (missing)."
    parts = []
    for group, frame in bins.groupby("group", sort=False):
        total = frame["clients"].sum()
        if total == 0:
            continue
        below = float(frame.loc[frame["bin_high"] <= value, "clients"].sum())
        inside = frame[(frame["bin_low"] <= value) & (frame["bin_high"] > value)]
        # within its bin, clients are assumed spread evenly
        width = (inside["bin_high"] - inside["bin_low"]).clip(lower=1e-12)
        below += float((inside["clients"] * (value - inside["bin_low"]) / width).sum())
        parts.append(f"higher than about {below / total:.0%} of "
                     f"{GROUP_LABELS.get(str(group), str(group)).lower()}")
    return f"This client's value {fmt_number(value)} is " + "; ".join(parts) + "."


class PortfolioPage(Page):
    """Score and decision distributions of the whole portfolio, by risk band."""

    def state(self) -> tuple[Any, ...]:
        return ("portfolio",)

    def render(self) -> pn.viewable.Viewable:
        portfolio = self._source.portfolio()
        decisions = _frame(portfolio.decisions)
        granted = int(decisions.loc[decisions["decision"] == "grant", "clients"].sum()) \
            if len(decisions) else 0
        bands = _frame(portfolio.bands)
        by_population = decisions.pivot_table(index="population", columns="decision",
                                              values="clients", aggfunc="sum",
                                              fill_value=0).reset_index() \
            if len(decisions) else pd.DataFrame()
        band_table = bands.assign(
            scores=lambda f: f["min_score"].astype(str) + "–" + f["max_score"].astype(str),
            mean_probability=lambda f: (f["mean_probability"] * 100).round(1).astype(str) + " %",
            default_rate=lambda f: f["default_rate"].map(
                lambda v: "—" if pd.isna(v) else f"{v:.1%}"),
        )[["risk_band", "clients", "scores", "mean_probability", "history_clients",
           "default_rate"]].rename(columns={
            "risk_band": "band", "scores": "score range",
            "mean_probability": "mean predicted probability",
            "history_clients": "clients with known outcome (out-of-fold band)",
            "default_rate": "observed difficulties (out-of-fold)"}) if len(bands) else pd.DataFrame()
        share = granted / portfolio.clients if portfolio.clients else 0.0
        return pn.Column(
            pn.pane.HTML(f"<div data-testid='portfolio-summary' style='color:{TEXT};"
                         f"font-size:1.15em'><b>{portfolio.clients:,}</b> clients scored by "
                         f"model {html.escape(portfolio.model_version or '—')}: "
                         f"<b>{share:.1%}</b> granted, <b>{1 - share:.1%}</b> refused "
                         f"(cutoff {portfolio.score_cutoff or 0:.0f} points).</div>",
                         sizing_mode="stretch_width"),
            pn.Row(_chart(plots.score_distribution(
                _frame(portfolio.score_histogram), portfolio.score_cutoff),
                sizing_mode="stretch_width"),
                _chart(plots.band_bars(bands), sizing_mode="stretch_width"),
                sizing_mode="stretch_width"),
            pn.pane.Markdown("### Risk bands"), html_table(band_table, "band-table"),
            pn.pane.Markdown("### Decisions by population (history = known outcome, "
                             "pending = new applications)"),
            html_table(by_population, "decision-table"),
            sizing_mode="stretch_width")


class ModelPage(Page):
    """Metrics, ROC, calibration, cost vs threshold, importance and run history."""

    def state(self) -> tuple[Any, ...]:
        return ("model",)

    def render(self) -> pn.viewable.Viewable:
        model = self._source.model()
        curves = _frame(self._source.model_curves().points)
        runs = _frame(self._source.model_runs().items)
        refreshes = pd.DataFrame(self._source.refresh_runs(10).items)

        def curve(name: str) -> pd.DataFrame:
            if curves.empty:
                return pd.DataFrame({"x": [], "y": []})
            return curves[curves["curve"] == name]

        metrics = [("OOF ROC AUC", model.oof_auc, "{:.3f}"),
                   ("Fold AUC", model.fold_auc_mean, "{:.3f}"),
                   ("± (std)", model.fold_auc_std, "{:.3f}"), ("Brier", model.brier, "{:.4f}"),
                   ("Log loss", model.log_loss, "{:.4f}"), ("KS", model.ks, "{:.3f}"),
                   ("Threshold", model.threshold, "{:.3f}"),
                   ("Cutoff (points)", model.score_scaling.score_cutoff, "{:.0f}"),
                   ("Expected cost", model.expected_cost, "{:.3f}"),
                   ("Training clients", model.n_train, "{:,}"),
                   ("Features", model.n_features, "{:,}")]
        cells = "".join(f"<section class='pad-card' style='flex:0 1 150px'><div "
                        f"class='pad-muted'>{html.escape(label)}</div><div style='font-size:"
                        f"1.3em;font-weight:700'>{'—' if value is None else fmt.format(value)}"
                        f"</div></section>" for label, value, fmt in metrics)
        scaling = model.score_scaling
        run_table = runs[["model_version", "trained_at", "is_champion", "oof_auc", "brier",
                          "threshold", "n_train", "n_features"]].round(
            {"oof_auc": 4, "brier": 4, "threshold": 4}).rename(
            columns={"is_champion": "champion", "oof_auc": "OOF AUC"}) if len(runs) else runs
        parts: list[Any] = [
            pn.pane.HTML(STYLE + f"<div data-testid='model-summary' style='color:{TEXT}'>"
                         f"<h2 style='margin:0'>Champion model "
                         f"{html.escape(model.model_version)}</h2><p class='pad-muted'>"
                         f"score = {scaling.offset:.1f} + {scaling.factor:.2f} · ln(odds of "
                         f"repayment): {scaling.pdo:.0f} points double the odds. Metrics are "
                         f"out-of-fold.</p><div style='display:flex;flex-wrap:wrap;gap:8px'>"
                         f"{cells}</div></div>", sizing_mode="stretch_width"),
            pn.Row(_chart(plots.roc_plot(curve("roc"), model.oof_auc),
                                     sizing_mode="stretch_width"),
                   _chart(plots.calibration_plot(curve("calibration")),
                                     sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.Row(_chart(plots.cost_plot(curve("cost"), model.threshold),
                                     sizing_mode="stretch_width"),
                   _chart(plots.importance_bars(_frame(model.importance)),
                                     sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.pane.Markdown("### Registered models"), html_table(run_table, "model-runs")]
        if len(refreshes):
            columns = [c for c in ("started_at", "status", "retrained", "model_version",
                                   "clients", "seconds_total", "message") if c in refreshes]
            parts += [pn.pane.Markdown("### Latest refresh runs"),
                      html_table(refreshes[columns].fillna(""), "refresh-runs")]
        return pn.Column(*parts, sizing_mode="stretch_width")


class ClientSelfView(Page):
    """A client's own file in plain language (`?client=<id>&view=client`)."""

    contest_box: Any = None        # dashboard.pages.decisions.ContestBox, when mounted

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(source, **params)
        self._summary = pn.pane.HTML(sizing_mode="stretch_width")
        self._gauge = pn.pane.HTML(sizing_mode="stretch_width")
        self._reasons = pn.pane.HTML(sizing_mode="stretch_width")
        self._profile = pn.pane.HTML(sizing_mode="stretch_width")
        from dashboard.pages.whatif import RecourseBlock  # imports this module
        self._recourse = RecourseBlock(source, for_client=True)
        self._content = pn.Column(
            self._summary, self._gauge, self._reasons,
            pn.pane.Markdown("### The information we used"), self._profile,
            pn.pane.HTML(f"<p style='color:{MUTED_TEXT}'>If something here is wrong or out of "
                         f"date, tell your advisor: the decision will be reviewed on the "
                         f"corrected information.</p>", sizing_mode="stretch_width"),
            sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        if self.client_id is None:
            return message("This link does not name a client file.")
        cid = self.client_id
        score = self._source.score(cid)
        explanation = self._source.explanation(cid)
        record = self._source.client(cid)
        bands = _frame(self._source.portfolio().bands)
        self._gauge.object = gauge_html(score.score, score.score_cutoff, bands)
        self._reasons.object = reasons_html(explanation, for_client=True) + self._recourse.html(
            score, record.population)
        self._profile.object = profile_html(record)
        if self.contest_box is not None:
            self.contest_box.show(cid)
        self._summary.object = self_summary_html(score)
        return self._content if self.contest_box is None else pn.Column(
            self._content, self.contest_box.view, sizing_mode="stretch_width")


def self_summary_html(score: ClientScore) -> str:
    """The decision told to the client, in plain words."""
    cutoff = round(score.score_cutoff)
    if score.decision == "grant":
        headline = "Your credit application is accepted."
        detail = (f"Your score is {score.score} points. Applications above {cutoff} points are "
                  f"accepted, so yours is {score.score - cutoff} points clear.")
    else:
        headline = "Your credit application could not be accepted as it stands."
        detail = (f"Your score is {score.score} points. Applications need more than {cutoff} "
                  f"points; yours is {cutoff + 1 - score.score} points short.")
    return (STYLE + f"<div data-testid='client-summary' data-client='{score.sk_id_curr}' "
            f"data-decision='{html.escape(score.decision)}' style='color:{TEXT}'>"
            f"<h2 style='margin:0 0 6px 0'>Your application {score.sk_id_curr} "
            f"{badge(score.decision)}</h2><p style='font-size:1.15em'>"
            f"<b>{html.escape(headline)}</b> {html.escape(detail)}</p>"
            f"<p class='pad-muted'>The score estimates how likely a credit is to be repaid "
            f"without difficulty: the higher, the better. It is calculated from the "
            f"information below and your credit history with us and other lenders.</p></div>")


class DashboardApp(Viewer):
    """One browser session: search, the four advisor pages, or a client's own view.

    `client` and `view` mirror the URL (`?client=…&view=client`) both ways.
    """

    client = param.String(default="", doc="client id as in the URL")
    view = param.String(default="advisor", doc="'advisor', or 'client' for the client's view")
    client_id = param.Integer(default=None, allow_None=True, doc="the parsed client id")

    def __init__(self, source: DataSource, desk: Any = None, **params: Any) -> None:
        super().__init__(**params)
        self._source = source
        self.search = ClientSearch(source)
        self.pages: dict[str, Page] = {"Client": ClientPage(source),
                                       "Comparison": ComparisonPage(source),
                                       "Portfolio": PortfolioPage(source),
                                       "Model": ModelPage(source),
                                       "Monitoring": _monitoring_page(source)}
        self.self_view = ClientSelfView(source)
        self.decisions = None          # the decision record's views, when a desk is given
        if desk is not None:
            from dashboard.pages.hook import decision_views

            self.decisions = decision_views(source, desk)
            self.pages["Client"].decision_panel = self.decisions.panel
            self.self_view.contest_box = self.decisions.contest
        self.tabs = pn.Tabs(*self.pages.items(), sizing_mode="stretch_width")
        self.search.param.watch(
            lambda e: self.param.update(client="" if e.new is None else str(e.new)), "client_id")
        self.tabs.param.watch(lambda e: self._show(), "active")
        # deep links: the request's query first (available while the session is created),
        # then keep the URL in step with the selected client
        args = pn.state.session_args or {}
        initial = {key: args[key][0].decode("utf-8", "replace") for key in ("client", "view")
                   if args.get(key)}
        with param.parameterized.discard_events(self):
            self.param.update(**initial)
        if pn.state.location is not None:
            pn.state.location.sync(self, {"client": "client", "view": "view"})
        self._parse_client()

    @param.depends("client", watch=True)
    def _parse_client(self) -> None:
        text = self.client.strip()
        self.client_id = int(text) if text.isdigit() and text.isascii() and len(text) < 19 \
            else None
        if self.client_id is not None and self.search.client_id != self.client_id:
            self.search.pick(self.client_id)
        self._show()

    @param.depends("view", watch=True)
    def _show(self) -> None:
        if self.view == "client":
            self.self_view.client_id = self.client_id
            self.self_view.refresh()
            return
        if self.decisions is not None:     # no client chosen: the advisor's work list
            self.decisions.worklist.view.visible = self.client_id is None
            if self.client_id is None:
                self.decisions.worklist.refresh()
        page = self.pages[PAGES[self.tabs.active]]
        page.client_id = self.client_id
        page.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.panel(self._layout, sizing_mode="stretch_width")

    @param.depends("view")
    def _layout(self) -> pn.viewable.Viewable:
        health = self._source.health()
        notice = [] if health.status == "ok" else [message(
            f"{health.detail}. Reload this page once a refresh has published the warehouse.",
            "warning")]
        if self.view == "client":
            return pn.Column(pn.pane.Markdown("## Prêt à dépenser — your credit file"),
                             *notice, self.self_view, max_width=1200,
                             sizing_mode="stretch_width")
        worklist = [] if self.decisions is None else [self.decisions.identity,
                                                      self.decisions.worklist.view]
        return pn.Column(pn.pane.Markdown(f"## {TITLE}"), *notice, *_alerts_banner(self._source),
                         *worklist, self.search, self.tabs, max_width=1400,
                         sizing_mode="stretch_width")


def _monitoring_page(source: DataSource) -> Page:
    from dashboard.pages.monitoring import MonitoringPage  # the page module imports this one

    return MonitoringPage(source)


def _alerts_banner(source: DataSource) -> list[pn.viewable.Viewable]:
    from dashboard.pages.monitoring import alerts_banner

    return alerts_banner(source)


def create_app(source: DataSource, desk: Any = None) -> DashboardApp:
    """One session's app (pn.serve calls this for every browser session); `desk` (a
    dashboard.pages.desk.DecisionDesk) mounts the work list and the decision record."""
    return DashboardApp(source, desk)


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
                 title=TITLE, websocket_origin=websocket_origins(host, port), admin=False, **auth)
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

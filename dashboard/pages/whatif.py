"""What-if panel and "what it would take" blocks.

`WhatIfPanel` (client page): the advisor edits the application fields a client can change,
presses Simulate and sees the simulated gauge, decision, reasons and waterfall — clearly
labelled a simulation, not a decision (nothing is stored) — and Reset brings back the published
application. `RecourseBlock`: for a refused client, the options that would turn the decision
into a grant, for the advisor (client page) or in plain words for the client (client view).
Options of pending clients are precomputed; history clients' are searched on request.
"""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn
from markupsafe import Markup
from panel.viewable import Viewer

from dashboard import plots
from dashboard.formatting import as_frame, badge
from dashboard.html_charts import gauge_html, waterfall_html
from dashboard.lookup import ClientNotFound, InvalidRequest, WarehouseUnavailable
from dashboard.pages.client_parts import driver_frame, reasons_html
from dashboard.schemas import ClientScore
from dashboard.source import DataSource
from dashboard.texts import N_, Texts
from dashboard.theme import MUTED_TEXT, TEXT
from dashboard.whatif_schemas import Recourse, WhatIf
from dashboard.whatif_source import whatif_source
from i18n import localize
from models_ml.recourse import option_text, recourse_text
from models_ml.whatif import CONTRACT_TYPES, FIELDS

SIMULATION_NOTE = N_("Simulation, not a decision: the score below is what the model would "
                     "give the edited application. Nothing is recorded and the published "
                     "decision stands.")
ON_REQUEST = N_("Open {what_if} below and press {options} to search the options of this "
                "application.")
NOT_AVAILABLE = N_("What-if is not available for this client.")
CLIENT_NONE = N_("No change of the credit amount, the instalment or a down payment within our "
                 "limits would be enough on its own. Your advisor can review your file with "
                 "you.")
# the editable fields (models_ml.whatif.FIELDS) as the form names them
FIELD_LABELS = {"credit_amount": N_("Credit amount"), "annuity": N_("Annuity"),
                "goods_price": N_("Goods price"), "income": N_("Income"),
                "years_employed": N_("Years employed"), "contract_type": N_("Contract type"),
                "children": N_("Children"), "family_members": N_("Family members"),
                "own_car": N_("Owns a car"), "own_realty": N_("Owns real estate")}


def _amount_input(name: str, step: float, tr: Texts) -> pn.widgets.FloatInput:
    spec = FIELDS[name]
    return pn.widgets.FloatInput(label=tr._(FIELD_LABELS[name]), start=spec.low, end=spec.high,
                                 step=step, format="0,0", width=170)


def edit_error(exc: Exception, tr: Texts) -> str:
    """An edit the service refused, in the reader's language (its coded message says which
    field and why)."""
    reason = localize(exc.args[0], tr.lang) if exc.args else ""
    return tr._("This change cannot be simulated: {reason}", reason=reason)


class WhatIfPanel(Viewer):
    """Edit → Simulate → gauge, decision, reasons, waterfall; Reset."""

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(**params)
        self.tr = tr
        self._whatif = whatif_source(source)
        self._client: int | None = None
        self._published: dict[str, Any] = {}
        self._bands = pd.DataFrame()
        self._cutoff = 0.0
        self.inputs: dict[str, pn.widgets.Widget] = {
            "credit_amount": _amount_input("credit_amount", 1000, tr),
            "annuity": _amount_input("annuity", 100, tr),
            "goods_price": _amount_input("goods_price", 1000, tr),
            "income": _amount_input("income", 1000, tr),
            "years_employed": pn.widgets.FloatInput(label=tr._(FIELD_LABELS["years_employed"]),
                                                    start=0, end=60, step=0.5, width=130),
            "contract_type": pn.widgets.Select(label=tr._(FIELD_LABELS["contract_type"]),
                                               options={tr.value(c): c for c in CONTRACT_TYPES},
                                               width=150),
            "children": pn.widgets.IntInput(label=tr._(FIELD_LABELS["children"]), start=0,
                                            end=20, width=110),
            "family_members": pn.widgets.IntInput(label=tr._(FIELD_LABELS["family_members"]),
                                                  start=1, end=21, width=130),
            "own_car": pn.widgets.Checkbox(label=tr._(FIELD_LABELS["own_car"])),
            "own_realty": pn.widgets.Checkbox(label=tr._(FIELD_LABELS["own_realty"])),
        }
        self.not_employed = pn.widgets.Checkbox(label=tr._("Not employed"))
        self.simulate = pn.widgets.Button(label=tr._("Simulate"), color="primary")
        self.reset = pn.widgets.Button(label=tr._("Reset to the published application"))
        self.options = pn.widgets.Button(label=tr._("What would it take?"))
        self.simulate.on_click(lambda _: self.run())
        self.reset.on_click(lambda _: self.restore())
        self.options.on_click(lambda _: self.find_options())
        self._options = pn.pane.HTML(sizing_mode="stretch_width")
        self._status = pn.pane.HTML(sizing_mode="stretch_width")
        self._summary = pn.pane.HTML(sizing_mode="stretch_width")
        self._gauge = pn.pane.HTML(sizing_mode="stretch_width")
        self._reasons = pn.pane.HTML(sizing_mode="stretch_width")
        self._chart = pn.pane.HTML(sizing_mode="stretch_width")
        self._results = pn.Column(self._summary, self._gauge, self._reasons, self._chart,
                                  visible=False, sizing_mode="stretch_width")
        note = pn.pane.HTML(
            f"<div role='note' data-testid='whatif-note' style='color:{TEXT};border:2px dashed "
            f"{MUTED_TEXT};padding:6px 10px;border-radius:4px'><b>"
            f"{html.escape(tr._(SIMULATION_NOTE))}"
            f"</b></div>", sizing_mode="stretch_width")
        self._form = pn.Column(note, pn.FlexBox(*self.inputs.values(), self.not_employed),
                               pn.Row(self.simulate, self.reset, self.options),
                               sizing_mode="stretch_width")
        # collapsed and empty until first opened: the form's widgets then cost a page (and a
        # session's first client) nothing until an advisor asks for a simulation
        self._layout = pn.Card(title=tr._("What if? Simulate a changed application"),
                               collapsed=True, sizing_mode="stretch_width")
        self._layout.param.watch(lambda _: self._load(), "collapsed")
        self._loaded_for: int | None = None

    def show(self, sk_id_curr: int | None, bands: pd.DataFrame | None,
             cutoff: float = 0.0) -> None:
        """The client whose application the form edits (loaded when the card is open)."""
        if sk_id_curr == self._client and sk_id_curr is not None:
            return
        self._cutoff = cutoff
        self._client, self._bands = sk_id_curr, bands if bands is not None else self._bands
        self._loaded_for = None
        if self._results.visible:
            self._results.visible = False
        self._load()

    def _load(self) -> None:
        if self._layout.collapsed or self._client is None or self._loaded_for == self._client:
            return
        if not self._layout.objects:
            self._layout.objects = [self._form, self._status, self._results, self._options]
        try:
            self._published = self._whatif.application(self._client).model_dump()
        except (InvalidRequest, ClientNotFound, WarehouseUnavailable):
            self._form.visible = False
            self._status.object = (f"<p role='alert'>"
                                   f"{html.escape(self.tr._(NOT_AVAILABLE))}</p>")
            return
        self._form.visible = True
        self._loaded_for = self._client
        self.restore()

    def restore(self) -> None:
        for name, widget in self.inputs.items():
            value = self._published.get(name)
            widget.value = (bool(value) if isinstance(widget, pn.widgets.Checkbox)
                            else value if value is not None or name != "contract_type"
                            else CONTRACT_TYPES[0])
        self.not_employed.value = self._published.get("years_employed") is None
        self._results.visible = False
        self._status.object = self._options.object = ""

    def edits(self) -> dict[str, Any]:
        """The fields whose value differs from the published application."""
        changed: dict[str, Any] = {}
        for name, widget in self.inputs.items():
            value = widget.value
            if name == "years_employed":
                value = None if self.not_employed.value else value
            if value != self._published.get(name) and not (value is None and
                                                           name != "years_employed"):
                changed[name] = value
        return changed

    def run(self) -> None:
        if self._client is None:
            return
        edits = self.edits()
        try:
            result = self._whatif.what_if(self._client, edits)
        except InvalidRequest as exc:
            return self._error(edit_error(exc, self.tr))
        except (ClientNotFound, WarehouseUnavailable):
            return self._error(self.tr._(NOT_AVAILABLE))
        tr = self.tr
        self._status.object = ""
        self._gauge.object = gauge_html(result.score, result.score_cutoff, self._bands, tr)
        self._reasons.object = reasons_html(result, tr)
        if result.drivers:
            steps = plots.waterfall_steps(driver_frame(result.drivers, tr),
                                          as_frame(result.families), tr)
            self._chart.object = waterfall_html(steps, result.base_points, result.score, tr)
        self._chart.visible = bool(result.drivers)
        self._summary.object = simulated_summary_html(result, edits, tr)
        self._results.visible = True

    def find_options(self) -> None:
        """What it would take, starting from the application as edited in the form."""
        if self._client is None:
            return
        try:
            edits = self.edits()
            result = self._whatif.recourse(self._client, edits)
        except InvalidRequest as exc:
            return self._error(edit_error(exc, self.tr))
        except (ClientNotFound, WarehouseUnavailable):
            return self._error(self.tr._(NOT_AVAILABLE))
        applied = {**self._published, **edits}
        self._options.object = (recourse_html(result, applied, self._cutoff, self.tr,
                                              for_client=False)
                                if result.decision == "refuse" else
                                "<p data-testid='recourse-granted'>"
                                f"{html.escape(recourse_text('granted', self.tr.lang))}</p>")

    def _error(self, text: str) -> None:
        self._status.object = (f"<p role='alert' data-testid='whatif-error'>"
                               f"{html.escape(text)}</p>")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def simulated_summary_html(result: WhatIf, edits: dict[str, Any], tr: Texts) -> str:
    changed = ", ".join(f"{tr._(FIELD_LABELS[k]).lower()} {_shown(v, tr)}"
                        for k, v in edits.items()) or tr._("no change")
    heading = tr.html("Simulated: {badge} score {score} ({delta} against the published "
                      "{published})",
                      badge=Markup(badge(result.decision, tr)), score=tr.number(result.score),
                      delta=tr.in_points(result.delta_points,
                                         tr.points(result.delta_points, sign=True)),
                      published=tr.number(result.published.score))
    detail = tr._("Changed: {changes}. Probability of payment difficulties {probability} "
                  "(refused above {threshold}).", changes=changed,
                  probability=tr.percent(result.probability_default),
                  threshold=tr.percent(result.threshold))
    return (f"<div data-testid='whatif-summary' data-decision='{result.decision}' "
            f"data-score='{result.score}' style='color:{TEXT}'>"
            f"<h3 style='margin:4px 0'>{heading}</h3><p class='pad-muted'>"
            f"{html.escape(detail)}</p></div>")


def _shown(value: Any, tr: Texts) -> str:
    if value is None:
        return tr._("not employed")
    if isinstance(value, bool):
        return tr._("yes") if value else tr._("no")
    return tr.number(value) if isinstance(value, int | float) else tr.value(value)


class RecourseBlock:
    """What it would take: the options of a refused client, for the advisor or the client, as
    HTML the page appends to its reasons (a pane or a widget of its own would cost every
    session's first client page). Pending clients' options are precomputed; for a history
    client the what-if card searches them on request."""

    def __init__(self, source: DataSource, tr: Texts, for_client: bool = False) -> None:
        self._whatif = whatif_source(source)
        self._for_client = for_client
        self.tr = tr

    def html(self, score: ClientScore, population: str) -> str:
        tr = self.tr
        if score.decision != "refuse":
            return ""
        if population != "pending":
            if self._for_client:
                return ""
            card, button = tr._("What if?"), tr._("What would it take?")
            return (f"<section class='pad-card' data-testid='recourse'><h3>"
                    f"{html.escape(tr._('What it would take'))}</h3><p>"
                    + tr.html(ON_REQUEST, what_if=_bold(card), options=_bold(button))
                    + "</p></section>")
        try:
            recourse = self._whatif.recourse(score.sk_id_curr)
            applied = self._whatif.application(score.sk_id_curr).model_dump()
            return recourse_html(recourse, applied, score.score_cutoff, tr, self._for_client)
        except WarehouseUnavailable:
            return ""  # a warehouse published before what-if existed: no block
        except (InvalidRequest, ClientNotFound):
            return f"<p role='alert'>{html.escape(tr._(NOT_AVAILABLE))}</p>"


def _bold(text: str) -> Markup:
    return Markup("<b>{}</b>").format(text)


def option_words(option: Any, applied: dict[str, Any], cutoff: float, tr: Texts) -> str:
    """An option's sentence in the reader's language, from its lever and edits (the stored
    text is English)."""
    try:
        return option_text(option.lever, applied, option.edits, option.score, cutoff, tr.lang)
    except (KeyError, TypeError):
        return option.text


def recourse_html(recourse: Recourse, applied: dict[str, Any], cutoff: float, tr: Texts,
                  for_client: bool) -> str:
    title = tr._("What would change the decision") if for_client else tr._("What it would take")
    if recourse.reachable:
        items = "".join(f"<li data-lever='{o.lever}'>"
                        f"{html.escape(option_words(o, applied, cutoff, tr))}</li>"
                        for o in recourse.options)
        intro = tr._("Any one of these changes would be enough for your application to be "
                     "accepted:") if for_client else tr._(
            "The smallest change of one lever that turns the refusal into a grant (each "
            "verified by scoring it):")
        body = f"<p>{html.escape(intro)}</p><ul data-testid='recourse-options'>{items}</ul>"
    else:
        none = tr._(CLIENT_NONE) if for_client else recourse_text("none", tr.lang)
        body = f"<p data-testid='recourse-none'>{html.escape(none)}</p>"
    return (f"<section class='pad-card' data-testid='recourse' style='color:{TEXT}'>"
            f"<h3>{html.escape(title)}</h3>{body}</section>")


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("What it would take"))

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
from panel.viewable import Viewer

from dashboard import plots
from dashboard.formatting import as_frame, badge
from dashboard.html_charts import gauge_html, waterfall_html
from dashboard.lookup import ClientNotFound, InvalidRequest, WarehouseUnavailable
from dashboard.pages.client_parts import reasons_html
from dashboard.schemas import ClientScore
from dashboard.source import DataSource
from dashboard.theme import MUTED_TEXT, TEXT
from dashboard.whatif_schemas import Recourse, WhatIf
from dashboard.whatif_source import whatif_source
from models_ml.recourse import TEXTS
from models_ml.whatif import CONTRACT_TYPES, FIELDS

SIMULATION_NOTE = ("Simulation, not a decision: the score below is what the model would give "
                   "the edited application. Nothing is recorded and the published decision "
                   "stands.")
ON_REQUEST = ("<section class='pad-card' data-testid='recourse'><h3>What it would take</h3>"
              "<p>Open <b>What if?</b> below and press <b>What would it take?</b> to search the "
              "options of this application.</p></section>")
CLIENT_NONE = ("No change of the credit amount, the instalment or a down payment within our "
               "limits would be enough on its own. Your advisor can review your file with you.")


def _amount_input(name: str, step: float) -> pn.widgets.FloatInput:
    spec = FIELDS[name]
    return pn.widgets.FloatInput(label=spec.label, start=spec.low, end=spec.high, step=step,
                                 format="0,0", width=170)


class WhatIfPanel(Viewer):
    """Edit → Simulate → gauge, decision, reasons, waterfall; Reset."""

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(**params)
        self._whatif = whatif_source(source)
        self._client: int | None = None
        self._published: dict[str, Any] = {}
        self._bands = pd.DataFrame()
        self.inputs: dict[str, pn.widgets.Widget] = {
            "credit_amount": _amount_input("credit_amount", 1000),
            "annuity": _amount_input("annuity", 100),
            "goods_price": _amount_input("goods_price", 1000),
            "income": _amount_input("income", 1000),
            "years_employed": pn.widgets.FloatInput(label="Years employed", start=0, end=60,
                                                    step=0.5, width=130),
            "contract_type": pn.widgets.Select(label="Contract type",
                                               options=list(CONTRACT_TYPES), width=150),
            "children": pn.widgets.IntInput(label="Children", start=0, end=20, width=110),
            "family_members": pn.widgets.IntInput(label="Family members", start=1, end=21,
                                                  width=130),
            "own_car": pn.widgets.Checkbox(label="Owns a car"),
            "own_realty": pn.widgets.Checkbox(label="Owns real estate"),
        }
        self.not_employed = pn.widgets.Checkbox(label="Not employed")
        self.simulate = pn.widgets.Button(label="Simulate", color="primary")
        self.reset = pn.widgets.Button(label="Reset to the published application")
        self.options = pn.widgets.Button(label="What would it take?")
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
            f"{MUTED_TEXT};padding:6px 10px;border-radius:4px'><b>{html.escape(SIMULATION_NOTE)}"
            f"</b></div>", sizing_mode="stretch_width")
        self._form = pn.Column(note, pn.FlexBox(*self.inputs.values(), self.not_employed),
                               pn.Row(self.simulate, self.reset, self.options),
                               sizing_mode="stretch_width")
        # collapsed and empty until first opened: the form's widgets then cost a page (and a
        # session's first client) nothing until an advisor asks for a simulation
        self._layout = pn.Card(title="What if? Simulate a changed application", collapsed=True,
                               sizing_mode="stretch_width")
        self._layout.param.watch(lambda _: self._load(), "collapsed")
        self._loaded_for: int | None = None

    def show(self, sk_id_curr: int | None, bands: pd.DataFrame | None) -> None:
        """The client whose application the form edits (loaded when the card is open)."""
        if sk_id_curr == self._client and sk_id_curr is not None:
            return
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
        except (InvalidRequest, ClientNotFound, WarehouseUnavailable) as exc:
            self._form.visible = False
            self._status.object = (f"<p role='alert'>What-if is not available for this "
                                   f"client: {html.escape(str(exc))}</p>")
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
        except (InvalidRequest, ClientNotFound, WarehouseUnavailable) as exc:
            self._status.object = (f"<p role='alert' data-testid='whatif-error'>"
                                   f"{html.escape(str(exc))}</p>")
            return
        self._status.object = ""
        self._gauge.object = gauge_html(result.score, result.score_cutoff, self._bands)
        self._reasons.object = reasons_html(result)
        if result.drivers:
            steps = plots.waterfall_steps(as_frame(result.drivers), as_frame(result.families))
            self._chart.object = waterfall_html(steps, result.base_points, result.score)
        self._chart.visible = bool(result.drivers)
        self._summary.object = simulated_summary_html(result, edits)
        self._results.visible = True

    def find_options(self) -> None:
        """What it would take, starting from the application as edited in the form."""
        if self._client is None:
            return
        try:
            result = self._whatif.recourse(self._client, self.edits())
        except (InvalidRequest, ClientNotFound, WarehouseUnavailable) as exc:
            self._status.object = (f"<p role='alert' data-testid='whatif-error'>"
                                   f"{html.escape(str(exc))}</p>")
            return
        self._options.object = (recourse_html(result, for_client=False)
                                if result.decision == "refuse" else
                                "<p data-testid='recourse-granted'>"
                                f"{html.escape(TEXTS['recourse.granted'])}</p>")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def simulated_summary_html(result: WhatIf, edits: dict[str, Any]) -> str:
    changed = ", ".join(f"{FIELDS[k].label.lower()} {_shown(v)}" for k, v in edits.items()) \
        or "no change"
    delta = f"{result.delta_points:+d} points"
    return (f"<div data-testid='whatif-summary' data-decision='{result.decision}' "
            f"data-score='{result.score}' style='color:{TEXT}'>"
            f"<h3 style='margin:4px 0'>Simulated: {badge(result.decision)} "
            f"score {result.score} ({html.escape(delta)} against the published "
            f"{result.published.score})</h3><p class='pad-muted'>Changed: "
            f"{html.escape(changed)}. Probability of payment difficulties "
            f"{result.probability_default:.1%} (refused above {result.threshold:.1%}).</p></div>")


def _shown(value: Any) -> str:
    if value is None:
        return "not employed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


class RecourseBlock:
    """What it would take: the options of a refused client, for the advisor or the client, as
    HTML the page appends to its reasons (a pane or a widget of its own would cost every
    session's first client page). Pending clients' options are precomputed; for a history
    client the what-if card searches them on request."""

    def __init__(self, source: DataSource, for_client: bool = False) -> None:
        self._whatif = whatif_source(source)
        self._for_client = for_client

    def html(self, score: ClientScore, population: str) -> str:
        if score.decision != "refuse":
            return ""
        if population != "pending":
            return "" if self._for_client else ON_REQUEST
        try:
            return recourse_html(self._whatif.recourse(score.sk_id_curr), self._for_client)
        except WarehouseUnavailable:
            return ""  # a warehouse published before what-if existed: no block
        except (InvalidRequest, ClientNotFound) as exc:
            return f"<p role='alert'>{html.escape(str(exc))}</p>"


def recourse_html(recourse: Recourse, for_client: bool) -> str:
    title = "What would change the decision" if for_client else "What it would take"
    if recourse.reachable:
        items = "".join(f"<li data-lever='{o.lever}'>{html.escape(o.text)}</li>"
                        for o in recourse.options)
        intro = ("Any one of these changes would be enough for your application to be "
                 "accepted:" if for_client else
                 "The smallest change of one lever that turns the refusal into a grant "
                 "(each verified by scoring it):")
        body = f"<p>{intro}</p><ul data-testid='recourse-options'>{items}</ul>"
    else:
        body = (f"<p data-testid='recourse-none'>"
                f"{html.escape(CLIENT_NONE if for_client else TEXTS['recourse.none'])}</p>")
    return (f"<section class='pad-card' data-testid='recourse' style='color:{TEXT}'>"
            f"<h3>{title}</h3>{body}</section>")

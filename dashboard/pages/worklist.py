"""The advisor's work list, where the dashboard opens: pending applications awaiting a
decision (refused and near-threshold first, filterable), open contests, recent decisions.

Every client id is a link to its client page (`/?client=<id>`): a new advisor knows no ids.
"""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard.formatting import heading
from dashboard.pages.desk import AdvisorIdentity, DecisionDesk
from dashboard.texts import N_, Texts

KIND_WORDS = {"issued": N_("issued (published decision given)"), "confirmed": N_("confirmed"),
              "overridden": N_("overridden"), "contested": N_("contested"),
              "reviewed": N_("reviewed")}

CANDIDATES = 1000      # pending applications read per decision (the API's page size)


def awaiting(source: Any, decided: set[int], decision: str | None = None,
             band: str | None = None) -> pd.DataFrame:
    """Pending applications without a decision: refused first, then nearest the cut-off."""
    frames = []
    for wanted in ([decision] if decision else ["refuse", "grant"]):
        page = source.search_clients(population="pending", decision=wanted, risk_band=band,
                                     limit=CANDIDATES)
        frames.append(pd.DataFrame([dict(i) if isinstance(i, dict) else i.model_dump()
                                    for i in page.items]))
    items = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame(
        columns=["sk_id_curr", "decision", "score", "risk_band"])], ignore_index=True)
    items = items[~items["sk_id_curr"].isin(decided)]
    if items.empty:
        return items
    cutoff = source.score(int(items["sk_id_curr"].iloc[0])).score_cutoff
    items["points_from_cutoff"] = (items["score"] - cutoff).round().astype(int)
    items["refused_first"] = (items["decision"] != "refuse").astype(int)
    items["distance"] = items["points_from_cutoff"].abs()
    return items.sort_values(["refused_first", "distance", "sk_id_curr"]).reset_index(drop=True)


def link(sk_id_curr: int, lang: str) -> str:
    return f"<a href='/?client={int(sk_id_curr)}&lang={lang}'>{int(sk_id_curr)}</a>"


def cell_words(name: str, value: Any, tr: Texts) -> str:
    """A work-list cell in the reader's words (decisions, kinds, numbers, UTC times)."""
    if name == "decision":
        return tr.decision(value) if value else "—"
    if name == "kind":
        return tr._(KIND_WORDS.get(value, str(value)))
    if name in ("created_at", "contested_at") and value:
        return tr.datetime(pd.Timestamp(value).to_pydatetime())
    if name == "point_of_view":
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return tr.number(value)
    return str(value)


def table_html(frame: pd.DataFrame, columns: dict[str, str], testid: str, tr: Texts) -> str:
    """An HTML table whose client ids are links (headers are the human labels)."""
    if frame.empty:
        return f"<p data-testid='{testid}'>{html.escape(tr._('Nothing here.'))}</p>"
    head = "".join(f"<th scope='col'>{html.escape(tr._(label))}</th>"
                   for label in columns.values())
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for name in columns:
            value = row[name]
            shown = link(value, tr.lang) if name == "sk_id_curr" else html.escape(
                cell_words(name, value, tr))
            cells.append(f"<td>{shown}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table data-testid='{testid}' class='pad-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


class WorkList:
    """The work list page (a Viewer-like object with `view` and `refresh`)."""

    def __init__(self, source: Any, desk: DecisionDesk, identity: AdvisorIdentity,
                 tr: Texts) -> None:
        self._source, self._desk, self._identity, self.tr = source, desk, identity, tr
        self._decision = pn.widgets.Select(name=tr._("Model's proposal"),
                                           options={tr._("all"): "", tr.decision("refuse"):
                                                    "refuse", tr.decision("grant"): "grant"},
                                           width=200)
        self._band = pn.widgets.Select(name=tr._("Risk band"),
                                       options={tr._("all"): "", "A": "A", "B": "B", "C": "C",
                                                "D": "D", "E": "E"}, width=160)
        self._rows = pn.widgets.Select(name=tr._("Rows shown"), options=[10, 25, 50, 100, 200],
                                       value=25, width=140)
        self._pending = pn.pane.HTML(sizing_mode="stretch_width")
        self._reviews = pn.pane.HTML(sizing_mode="stretch_width")
        self._recent = pn.pane.HTML(sizing_mode="stretch_width")
        for widget in (self._decision, self._band, self._rows):
            widget.param.watch(lambda _: self.refresh(), "value")
        identity.param.watch(lambda _: self.refresh(), "advisor")
        self.view = pn.Column(
            heading(tr._("Applications awaiting a decision"), tr._(
                "Pending applications no advisor has decided yet: refused first, then the "
                "closest to the cut-off.")),
            pn.Row(self._decision, self._band, self._rows), self._pending,
            heading(tr._("Open contests (reviews to do)")), self._reviews,
            heading(tr._("Recent decisions")), self._recent,
            sizing_mode="stretch_width")

    def refresh(self) -> None:
        decided = self._desk.store.decided_clients()
        pending = awaiting(self._source, decided, self._decision.value or None,
                           self._band.value or None)
        tr = self.tr
        self._pending.object = table_html(pending.head(self._rows.value), {
            "sk_id_curr": N_("client"), "decision": N_("model's proposal"), "score": N_("score"),
            "points_from_cutoff": N_("points from cut-off"), "risk_band": N_("risk band")},
            "worklist-pending", tr)
        reviews = pd.DataFrame(self._desk.store.reviews("open"))
        self._reviews.object = table_html(reviews, {
            "sk_id_curr": N_("client"), "contested_at": N_("contested at"),
            "decision": N_("decision"), "decided_by": N_("decided by (may not review)"),
            "point_of_view": N_("point of view")}, "worklist-reviews", tr) \
            if not reviews.empty else table_html(reviews, {}, "worklist-reviews", tr)
        name = self._identity.advisor
        recent = pd.DataFrame(self._desk.store.recent(actor=name, limit=20))
        columns = {"sk_id_curr": N_("client"), "created_at": N_("when"), "kind": N_("kind"),
                   "decision": N_("decision"), "actor": N_("by"), "comment": N_("comment")}
        whose = tr._("Yours (newest first)") if name else tr._("All advisors (newest first)")
        self._recent.object = (f"<p>{html.escape(whose)}</p>"
                               + table_html(recent.fillna("") if not recent.empty else recent,
                                            columns, "worklist-recent", tr))


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("Nothing here."))

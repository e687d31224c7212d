"""The decision record on the client page (history, confirm / override / contest / review) and
the contest box of the client's own view.

The decision given is always shown as recorded; the score the latest refresh publishes is shown
beside it, never in its place (a later model may disagree with a past decision).
"""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard.pages.desk import AdvisorIdentity, DecisionDesk
from dashboard.pages.notice import notice_html
from warehouse.decisions import InvalidDecision

KIND_LABELS = {"issued": "issued (published decision given)", "confirmed": "confirmed",
               "overridden": "overridden", "contested": "contested", "reviewed": "reviewed"}


def _when(entry: dict[str, Any]) -> str:
    return entry["created_at"][:16].replace("T", " ") + " UTC"


def _edits(entry: dict[str, Any]) -> str:
    edits = entry.get("what_if_edits") or {}
    return ", ".join(f"{k} = {v}" for k, v in edits.items())


def given_html(given: dict[str, Any] | None, score: Any) -> str:
    """The decision in force next to today's published score."""
    today = (f"Today's published score: <b>{score.score}</b> points (model "
             f"{html.escape(score.model_version)}), which proposes <b>{score.decision}</b>.")
    if given is None:
        return (f"<p data-testid='decision-given' data-decision=''>No decision has been given "
                f"to this client yet. {today}</p>")
    edited = (f" Taken on an edited application ({html.escape(_edits(given))})."
              if given.get("what_if_edits") else "")
    return (f"<p data-testid='decision-given' data-decision='{given['decision']}'>Decision "
            f"given: <b>{given['decision']}</b> ({given['kind']} by "
            f"{html.escape(given['actor'])}, {_when(given)}; score then {given['score']}, "
            f"model {html.escape(given['model_version'])}).{edited}</p><p>{today}</p>")


def history_frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "#": e["entry_id"], "when": _when(e), "kind": KIND_LABELS[e["kind"]],
        "decision": e["decision"], "by": e["actor"], "score then": e["score"],
        "model": e["model_version"], "comment": e["comment"] or "",
        "edited fields": _edits(e)} for e in entries])


def recourse_texts(source: Any, sk_id_curr: int) -> list[str]:
    """The what-if service's options, when the data source offers them (else none)."""
    from dashboard.whatif_source import whatif_source

    try:
        result = whatif_source(source).recourse(sk_id_curr)
    except Exception:  # noqa: BLE001 - the notice is still useful without options
        return []
    return [option.text for option in result.options]


class DecisionPanel:
    """History and actions for one client on the advisor's client page."""

    def __init__(self, desk: DecisionDesk, identity: AdvisorIdentity) -> None:
        self._desk, self._identity = desk, identity
        self._client: int | None = None
        self._given = pn.pane.HTML(sizing_mode="stretch_width")
        self._history = pn.pane.DataFrame(index=False, sizing_mode="stretch_width",
                                          escape=True)
        self._decision = pn.widgets.Select(name="Decision given (override or review)",
                                           options=["refuse", "grant"], width=260)
        self._comment = pn.widgets.TextAreaInput(
            name="Justification, client's point of view or review conclusion (at least a "
                 "sentence)", placeholder="Write at least a sentence", height=90,
            sizing_mode="stretch_width")
        self._feedback = pn.pane.Alert("", alert_type="info", visible=False,
                                       sizing_mode="stretch_width")
        buttons = []
        for kind, label, kind_type in [("issued", "Issue the published decision", "primary"),
                                       ("confirmed", "Confirm", "primary"),
                                       ("overridden", "Override (justify)", "default"),
                                       ("contested", "Record a contest", "default"),
                                       ("reviewed", "Review the contest", "default")]:
            button = pn.widgets.Button(name=label, button_type=kind_type)
            button.on_click(lambda _, k=kind: self.submit(k))
            buttons.append(button)
        self._notice = pn.widgets.FileDownload(
            label="Printable decision notice (French)", callback=self._notice_file,
            filename="avis-de-decision.html", button_type="default")
        self.view = pn.Column(
            pn.pane.Markdown("### Decision record"), self._given, self._history,
            pn.pane.Markdown("Identify with your advisor token (top of the page) to record."),
            self._decision, self._comment, pn.Row(*buttons), self._feedback,
            self._notice, sizing_mode="stretch_width")

    def show(self, sk_id_curr: int, score: Any) -> None:
        self._client, self._score = sk_id_curr, score
        entries = self._desk.history(sk_id_curr)
        given = self._desk.in_force(sk_id_curr)
        self._given.object = given_html(given, score)
        self._history.object = history_frame(entries) if entries else pd.DataFrame(
            {"history": ["no entry yet"]})
        self._notice.filename = f"avis-de-decision-{sk_id_curr}.html"
        self._feedback.visible = False

    def submit(self, kind: str) -> dict[str, Any] | None:
        if self._client is None:
            return None
        actor = self._identity.advisor
        if actor is None:
            return self._say("Identify with your advisor token to record a decision.",
                             "warning")
        decision = self._decision.value if kind in ("overridden", "reviewed") else None
        comment = self._comment.value_input or self._comment.value
        try:
            entry = self._desk.record(self._client, kind, actor, decision=decision,
                                      comment=comment or None)
        except InvalidDecision as exc:
            return self._say(str(exc), "danger")
        self._comment.value = ""
        self.show(self._client, self._score)
        self._say(f"Recorded entry {entry['entry_id']}: {entry['kind']}, "
                  f"{entry['decision']}.", "success")
        return entry

    def _say(self, text: str, kind: str) -> None:
        self._feedback.object, self._feedback.alert_type = text, kind
        self._feedback.visible = True

    def _notice_file(self) -> Any:
        import io

        cid = self._client
        source = self._desk.source
        page = notice_html(source.score(cid), source.explanation(cid), self._desk.in_force(cid),
                           self._desk.contest_code(cid), f"/?client={cid}&view=client",
                           recourse_texts(source, cid))
        return io.StringIO(page)


class ContestBox:
    """The client view: the decision given to the client and a box to contest it."""

    def __init__(self, desk: DecisionDesk) -> None:
        self._desk = desk
        self._client: int | None = None
        self._given = pn.pane.HTML(sizing_mode="stretch_width")
        self._text = pn.widgets.TextAreaInput(name="Your point of view", height=110,
                                              placeholder="Explain why you disagree",
                                              sizing_mode="stretch_width")
        self._code = pn.widgets.TextInput(name="Contest code (printed on your decision notice)",
                                          placeholder="XXXX-XXXX", width=300)
        self._send = pn.widgets.Button(name="Send my contest", button_type="primary")
        self._send.on_click(lambda _: self.submit())
        self._feedback = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")
        self.view = pn.Column(pn.pane.Markdown("### The decision given to you"), self._given,
                              pn.pane.Markdown("### Contest the decision"), self._text,
                              self._code, self._send, self._feedback,
                              sizing_mode="stretch_width")

    def show(self, sk_id_curr: int) -> None:
        self._client = sk_id_curr
        given = self._desk.in_force(sk_id_curr)
        if given is None:
            self._given.object = ("<p data-testid='client-decision-given'>No decision has been "
                                  "given on your application yet: what you see above is the "
                                  "score's proposal.</p>")
        else:
            word = "accepted" if given["decision"] == "grant" else "not accepted"
            self._given.object = (f"<p data-testid='client-decision-given' data-decision="
                                  f"'{given['decision']}'>Your application was <b>{word}</b> "
                                  f"on {given['created_at'][:10]}.</p>")
        self._feedback.visible = False

    def submit(self) -> dict[str, Any] | None:
        if self._client is None:
            return None
        try:
            entry = self._desk.contest_from_client(self._client, self._code.value,
                                                   self._text.value_input or self._text.value)
        except (InvalidDecision, PermissionError) as exc:
            self._feedback.object, self._feedback.alert_type = str(exc), "danger"
            self._feedback.visible = True
            return None
        self._text.value = self._code.value = ""
        self._feedback.object = ("Your contest is recorded. An advisor other than the one who "
                                 "decided will review it.")
        self._feedback.alert_type, self._feedback.visible = "success", True
        return entry

"""The decision record on the client page (history, confirm / override / contest / review) and
the contest box of the client's own view.

The decision given is always shown as recorded; the score the latest refresh publishes is shown
beside it, never in its place (a later model may disagree with a past decision).
"""
from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import pandas as pd
import panel as pn
from markupsafe import Markup

from dashboard.formatting import heading
from dashboard.pages.desk import AdvisorIdentity, DecisionDesk
from dashboard.pages.notice import notice_html
from dashboard.pages.whatif import FIELD_LABELS
from dashboard.pages.worklist import KIND_WORDS
from dashboard.texts import N_, Texts
from i18n import localize
from warehouse.decisions import InvalidDecision


def _when(entry: dict[str, Any], tr: Texts) -> str:
    return tr.datetime(datetime.fromisoformat(entry["created_at"]))


def _edits(entry: dict[str, Any], tr: Texts) -> str:
    edits = entry.get("what_if_edits") or {}
    return ", ".join(f"{tr._(FIELD_LABELS.get(k, k))} = {_value(v, tr)}"
                     for k, v in edits.items())


def _value(value: Any, tr: Texts) -> str:
    if isinstance(value, bool) or value is None:
        return tr.fmt_bool(value) if value is not None else tr._("not employed")
    return tr.number(value) if isinstance(value, int | float) else tr.value(value)


def given_html(given: dict[str, Any] | None, score: Any, tr: Texts) -> str:
    """The decision in force next to today's published score."""
    today = tr.html("Today's published score: {score} points (model {model}), which proposes "
                    "{decision}.", score=_bold(tr.number(score.score)), model=score.model_version,
                    decision=_bold(tr.decision(score.decision)))
    if given is None:
        return (f"<p data-testid='decision-given' data-decision=''>"
                f"{html.escape(tr._('No decision has been given to this client yet.'))} "
                f"{today}</p>")
    edited = (" " + html.escape(tr._("Taken on an edited application ({edits}).",
                                     edits=_edits(given, tr)))
              if given.get("what_if_edits") else "")
    detail = tr.html("Decision given: {decision} ({kind} by {actor}, {when}; score then "
                     "{score}, model {model}).", decision=_bold(tr.decision(given["decision"])),
                     kind=tr._(KIND_WORDS[given["kind"]]), actor=given["actor"],
                     when=_when(given, tr), score=tr.number(given["score"]),
                     model=given["model_version"])
    return (f"<p data-testid='decision-given' data-decision='{given['decision']}'>{detail}"
            f"{edited}</p><p>{today}</p>")


def _bold(text: str) -> Markup:
    return Markup("<b>{}</b>").format(text)


def history_frame(entries: list[dict[str, Any]], tr: Texts) -> pd.DataFrame:
    return pd.DataFrame([{
        "#": e["entry_id"], tr._("when"): _when(e, tr),
        tr._("kind"): tr._(KIND_WORDS[e["kind"]]),
        tr._("decision"): tr.decision(e["decision"]), tr._("by"): e["actor"],
        tr._("score then"): tr.number(e["score"]), tr._("model"): e["model_version"],
        tr._("comment"): e["comment"] or "", tr._("edited fields"): _edits(e, tr)}
        for e in entries])


def refused_entry(exc: Exception, tr: Texts) -> str:
    """Why the store refused an entry: the rule's coded message in the reader's language."""
    reason = localize(exc.args[0], tr.lang) if exc.args else ""
    return html.escape(tr._("The decision record refused this entry:") + " " + reason)


def recourse_texts(source: Any, sk_id_curr: int, tr: Texts) -> list[str]:
    """The what-if service's options in the reader's language, when the data source offers
    them (else none)."""
    from dashboard.pages.whatif import option_words
    from dashboard.whatif_source import whatif_source

    try:
        service = whatif_source(source)
        result = service.recourse(sk_id_curr)
        applied = service.application(sk_id_curr).model_dump()
        cutoff = source.score(sk_id_curr).score_cutoff
    except Exception:  # noqa: BLE001 - the notice is still useful without options
        return []
    return [option_words(option, applied, cutoff, tr) for option in result.options]


class DecisionPanel:
    """History and actions for one client on the advisor's client page."""

    def __init__(self, desk: DecisionDesk, identity: AdvisorIdentity, tr: Texts) -> None:
        self._desk, self._identity, self.tr = desk, identity, tr
        self._client: int | None = None
        self._given = pn.pane.HTML(sizing_mode="stretch_width")
        self._history = pn.pane.DataFrame(index=False, sizing_mode="stretch_width",
                                          escape=True)
        self._decision = pn.widgets.Select(name=tr._("Decision given (override or review)"),
                                           options={tr.decision("refuse"): "refuse",
                                                    tr.decision("grant"): "grant"}, width=260)
        self._comment = pn.widgets.TextAreaInput(
            name=tr._("Justification, client's point of view or review conclusion (at least a "
                      "sentence)"), placeholder=tr._("Write at least a sentence"), height=90,
            sizing_mode="stretch_width")
        self._feedback = pn.pane.Alert("", alert_type="info", visible=False,
                                       sizing_mode="stretch_width")
        buttons = []
        for kind, label, kind_type in [("issued", N_("Issue the published decision"), "primary"),
                                       ("confirmed", N_("Confirm"), "primary"),
                                       ("overridden", N_("Override (justify)"), "default"),
                                       ("contested", N_("Record a contest"), "default"),
                                       ("reviewed", N_("Review the contest"), "default")]:
            button = pn.widgets.Button(name=tr._(label), button_type=kind_type)
            button.on_click(lambda _, k=kind: self.submit(k))
            buttons.append(button)
        self._notice = pn.widgets.FileDownload(
            label=tr._("Printable decision notice"), callback=self._notice_file,
            filename="avis-de-decision.html", button_type="default")
        self.view = pn.Column(
            heading(tr._("Decision record")), self._given, self._history,
            pn.pane.HTML(tr._("Identify with your advisor token (top of the page) to record."),
                         sizing_mode="stretch_width"),
            self._decision, self._comment, pn.Row(*buttons), self._feedback,
            self._notice, sizing_mode="stretch_width")

    def show(self, sk_id_curr: int, score: Any) -> None:
        self._client, self._score = sk_id_curr, score
        entries = self._desk.history(sk_id_curr)
        given = self._desk.in_force(sk_id_curr)
        self._given.object = given_html(given, score, self.tr)
        self._history.object = history_frame(entries, self.tr) if entries else pd.DataFrame(
            {self.tr._("history"): [self.tr._("no entry yet")]})
        self._notice.filename = f"avis-de-decision-{sk_id_curr}.html"
        self._feedback.visible = False

    def submit(self, kind: str) -> dict[str, Any] | None:
        if self._client is None:
            return None
        actor = self._identity.advisor
        if actor is None:
            return self._say(self.tr._("Identify with your advisor token to record a "
                                       "decision."), "warning")
        decision = self._decision.value if kind in ("overridden", "reviewed") else None
        comment = self._comment.value_input or self._comment.value
        try:
            entry = self._desk.record(self._client, kind, actor, decision=decision,
                                      comment=comment or None)
        except InvalidDecision as exc:
            return self._say(refused_entry(exc, self.tr), "danger")
        self._comment.value = ""
        self.show(self._client, self._score)
        self._say(self.tr._("Recorded entry {entry}: {kind}, {decision}.",
                            entry=entry["entry_id"], kind=self.tr._(KIND_WORDS[entry["kind"]]),
                            decision=self.tr.decision(entry["decision"])), "success")
        return entry

    def _say(self, text: str, kind: str) -> None:
        self._feedback.object, self._feedback.alert_type = text, kind
        self._feedback.visible = True

    def _notice_file(self) -> Any:
        import io

        cid = self._client
        source = self._desk.source
        page = notice_html(source.score(cid), source.explanation(cid), self._desk.in_force(cid),
                           self._desk.contest_code(cid),
                           f"/?client={cid}&view=client&lang={self.tr.lang}",
                           recourse_texts(source, cid, self.tr), lang=self.tr.lang)
        return io.StringIO(page)


class ContestBox:
    """The client view: the decision given to the client and a box to contest it."""

    def __init__(self, desk: DecisionDesk, tr: Texts) -> None:
        self._desk, self.tr = desk, tr
        self._client: int | None = None
        self._given = pn.pane.HTML(sizing_mode="stretch_width")
        self._text = pn.widgets.TextAreaInput(name=tr._("Your point of view"), height=110,
                                              placeholder=tr._("Explain why you disagree"),
                                              sizing_mode="stretch_width")
        self._code = pn.widgets.TextInput(
            name=tr._("Contest code (printed on your decision notice)"),
            placeholder="XXXX-XXXX", width=300)
        self._send = pn.widgets.Button(name=tr._("Send my contest"), button_type="primary")
        self._send.on_click(lambda _: self.submit())
        self._feedback = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")
        self.view = pn.Column(heading(tr._("The decision given to you")), self._given,
                              heading(tr._("Contest the decision")), self._text,
                              self._code, self._send, self._feedback,
                              sizing_mode="stretch_width")

    def show(self, sk_id_curr: int) -> None:
        self._client = sk_id_curr
        given = self._desk.in_force(sk_id_curr)
        tr = self.tr
        if given is None:
            self._given.object = (f"<p data-testid='client-decision-given'>"
                                  f"{html.escape(tr._(NO_DECISION_YET))}</p>")
        else:
            word = tr._("accepted") if given["decision"] == "grant" else tr._("not accepted")
            day = datetime.fromisoformat(given["created_at"])
            text = tr.html("Your application was {decision} on {day}.", decision=_bold(word),
                           day=tr.date(day))
            self._given.object = (f"<p data-testid='client-decision-given' data-decision="
                                  f"'{given['decision']}'>{text}</p>")
        self._feedback.visible = False

    def submit(self) -> dict[str, Any] | None:
        if self._client is None:
            return None
        try:
            entry = self._desk.contest_from_client(self._client, self._code.value,
                                                   self._text.value_input or self._text.value)
        except PermissionError:
            return self._fail(self.tr._("This contest code does not match this application: "
                                        "copy it from your decision notice."))
        except InvalidDecision as exc:
            return self._fail(refused_entry(exc, self.tr))
        self._text.value = self._code.value = ""
        self._feedback.object = self.tr._("Your contest is recorded. An advisor other than the "
                                          "one who decided will review it.")
        self._feedback.alert_type, self._feedback.visible = "success", True
        return entry

    def _fail(self, text: str) -> None:
        self._feedback.object, self._feedback.alert_type = text, "danger"
        self._feedback.visible = True


NO_DECISION_YET = N_("No decision has been given on your application yet: what you see above "
                     "is the score's proposal.")


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("No decision has been given to this client yet."))

"""The dashboard's access to the decision record: one `DecisionDesk` per dashboard process.

It writes through the same code as the API (`dashboard.decision_records.record_decision`, the
store's rules under its write lock), with the scores of the dashboard's data source. Advisors
identify with their token (PAD_ADVISOR_TOKENS) to write; reading needs no identity, as the
dashboard itself opens without a login on loopback.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

import param
from markupsafe import Markup
from panel.viewable import Viewer

from dashboard.decision_records import ScoreSource, record_decision
from dashboard.texts import Texts
from warehouse.config import PadPaths
from warehouse.decisions import DecisionRequest, DecisionStore
from warehouse.decisions.contest import contest_code, contest_key, is_contest_code
from warehouse.decisions.rules import CLIENT_ACTOR, decision_in_force


@dataclass
class DecisionDesk:
    store: DecisionStore
    source: ScoreSource
    home: PadPaths
    advisors: dict[str, str] = field(default_factory=dict)    # token → advisor name

    def advisor(self, token: str | None) -> str | None:
        """The advisor whose token this is (constant-time comparisons), else None."""
        found = None
        for known, name in self.advisors.items():
            if token and hmac.compare_digest(token.strip().encode(), known.encode()):
                found = name
        return found

    def history(self, sk_id_curr: int) -> list[dict[str, Any]]:
        return self.store.history(sk_id_curr)

    def in_force(self, sk_id_curr: int) -> dict[str, Any] | None:
        entry = decision_in_force(self.history(sk_id_curr))
        return dict(entry) if entry else None

    def record(self, sk_id_curr: int, kind: str, actor: str, decision: str | None = None,
               comment: str | None = None,
               what_if_edits: dict[str, Any] | None = None) -> dict[str, Any]:
        request = DecisionRequest(kind=kind, actor=actor, decision=decision,
                                  comment=comment or None, what_if_edits=what_if_edits)
        return record_decision(self.source, self.store, sk_id_curr, request)

    def contest_from_client(self, sk_id_curr: int, code: str, point_of_view: str
                            ) -> dict[str, Any]:
        if not is_contest_code(contest_key(self.home), sk_id_curr, code):
            raise PermissionError("this contest code does not match this application: copy it "
                                  "from your decision notice")
        return self.record(sk_id_curr, "contested", CLIENT_ACTOR, comment=point_of_view)

    def contest_code(self, sk_id_curr: int) -> str:
        return contest_code(contest_key(self.home), sk_id_curr)


class AdvisorIdentity(Viewer):
    """The advisor of one browser session: a token field, and the name once it matches."""

    advisor = param.String(default=None, allow_None=True)

    def __init__(self, desk: DecisionDesk, tr: Texts, **params: Any) -> None:
        import panel as pn

        super().__init__(**params)
        self._desk, self.tr = desk, tr
        self._token = pn.widgets.PasswordInput(
            name=tr._("Advisor token (to record decisions)"),
            placeholder=tr._("your PAD_ADVISOR_TOKENS token"), width=320)
        self._button = pn.widgets.Button(name=tr._("Identify"), button_type="primary",
                                         width=110, align="end")
        self._status = pn.pane.HTML(tr._("Not identified: you can read, not record."),
                                    sizing_mode="stretch_width")
        self._button.on_click(lambda _: self.identify(self._token.value))

    def identify(self, token: str | None) -> None:
        self.advisor = self._desk.advisor(token)
        self._token.value = ""
        self._status.object = (str(self.tr.html("Identified as {advisor}.", advisor=Markup(
            "<b>{}</b>").format(self.advisor))) if self.advisor else
            self.tr._("Unknown token: not identified."))

    def __panel__(self) -> Any:
        import panel as pn

        return pn.Row(self._token, self._button, self._status, sizing_mode="stretch_width")


def open_desk(paths: PadPaths, source: ScoreSource) -> DecisionDesk:
    """The desk of `pad dashboard`: PAD_HOME's store (or PAD_DECISIONS_URL), its advisors."""
    from dashboard.config import advisor_tokens
    from warehouse.errors import BadInput

    try:
        advisors = advisor_tokens()
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return DecisionDesk(DecisionStore.for_paths(paths), source, paths, advisors)

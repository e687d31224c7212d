"""The decision record in the dashboard (no browser): work list, decision panel, contest box,
printable notice — writing through the real store (SQLite and PostgreSQL)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.app import DashboardApp
from dashboard.lookup import Lookup
from dashboard.pages.desk import DecisionDesk
from dashboard.pages.hook import decision_views
from dashboard.pages.notice import notice_html
from dashboard.pages.worklist import awaiting
from dashboard.texts import texts
from tests.dashboard.conftest import SampleIds
from warehouse.config import PadPaths
from warehouse.decisions import DecisionStore

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]
WHY = "Payslips of the last three months confirm a stable income."


@pytest.fixture
def desk(decisions_url: str, lookup: Lookup, tmp_path: Path):
    store = DecisionStore(decisions_url)
    yield DecisionDesk(store, lookup, PadPaths(tmp_path),
                       {"tok-alice-123": "alice", "tok-bob-4567": "bob"})
    store.close()


def test_work_list_refused_and_near_cutoff_first_without_decided(desk: DecisionDesk,
                                                                 lookup: Lookup) -> None:
    listed = awaiting(lookup, set())
    assert set(listed["decision"]) <= {"refuse", "grant"} and len(listed) > 10
    refused = listed[listed["decision"] == "refuse"]
    assert list(listed.index[: len(refused)]) == list(refused.index)    # refused first
    assert refused["distance"].is_monotonic_increasing
    first = int(listed["sk_id_curr"].iloc[0])
    desk.record(first, "issued", "alice")
    again = awaiting(lookup, desk.store.decided_clients())
    assert first not in set(again["sk_id_curr"]) and len(again) == len(listed) - 1
    assert set(awaiting(lookup, set(), "grant", "A")["risk_band"]) <= {"A"}


def test_decision_panel_records_only_identified_and_justified(desk: DecisionDesk,
                                                              lookup: Lookup,
                                                              ids: SampleIds) -> None:
    views = decision_views(lookup, desk, texts("en"))
    panel, score = views.panel, lookup.score(ids.refused)
    panel.show(ids.refused, score)
    assert "No decision has been given" in panel._given.object
    panel.submit("confirmed")
    assert desk.history(ids.refused) == [] and "Identify" in panel._feedback.object
    views.identity.identify("tok-alice-123")
    assert views.identity.advisor == "alice"
    panel._decision.value = "grant"
    panel.submit("overridden")
    assert desk.history(ids.refused) == [] and "justification" in panel._feedback.object
    panel._comment.value = WHY
    entry = panel.submit("overridden")
    assert entry is not None and entry["actor"] == "alice" and entry["decision"] == "grant"
    assert "Decision given: <b>Grant</b>" in panel._given.object
    assert f"published score: <b>{score.score}</b>" in panel._given.object
    assert list(panel._history.object["kind"]) == ["overridden"]
    views.worklist.refresh()
    assert f"?client={ids.refused}&lang=en'" in views.worklist._recent.object


def test_client_contest_box_needs_the_notice_code(desk: DecisionDesk, lookup: Lookup,
                                                  ids: SampleIds) -> None:
    desk.record(ids.refused, "issued", "alice")
    box = decision_views(lookup, desk, texts("en")).contest
    box.show(ids.refused)
    assert "not accepted" in box._given.object
    box._text.value, box._code.value = "I have a new permanent job since May.", "AAAA-BBBB"
    assert box.submit() is None and "does not match" in box._feedback.object
    box._code.value = desk.contest_code(ids.refused)
    entry = box.submit()
    assert entry is not None and entry["actor"] == "client" and entry["kind"] == "contested"
    [open_review] = desk.store.reviews("open")
    assert open_review["sk_id_curr"] == ids.refused and open_review["decided_by"] == "alice"


def test_printable_notice_in_french_by_default(desk: DecisionDesk, lookup: Lookup,
                                               ids: SampleIds) -> None:
    given = desk.record(ids.refused, "issued", "alice")
    code = desk.contest_code(ids.refused)
    explanation = lookup.explanation(ids.refused)
    page = notice_html(lookup.score(ids.refused), explanation, given, code,
                       f"/?client={ids.refused}&view=client")
    assert "<html lang='fr'>" in page and "pas pu être acceptée" in page
    assert code in page and "2023/2225" in page and "intervention" in page
    assert len(explanation.reasons) == page.count("<li>")
    english = notice_html(lookup.score(ids.refused), explanation, None, code, "/x", lang="en")
    assert "scoring model's proposal" in english


def test_app_opens_on_the_work_list_and_mounts_the_decision_record(desk: DecisionDesk,
                                                                   lookup: Lookup,
                                                                   ids: SampleIds) -> None:
    app = DashboardApp(lookup, desk, "en")
    assert app.decisions is not None and app.decisions.worklist.view.visible
    assert "worklist-pending" in app.decisions.worklist._pending.object
    app.client = str(ids.refused)
    assert not app.decisions.worklist.view.visible
    assert app.decisions.panel._given.object and "data-decision=''" in \
        app.decisions.panel._given.object

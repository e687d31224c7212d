"""What the dashboard app mounts for the decision record (one set per browser session)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.pages.decisions import ContestBox, DecisionPanel
from dashboard.pages.desk import AdvisorIdentity, DecisionDesk
from dashboard.pages.worklist import WorkList


@dataclass
class DecisionViews:
    identity: AdvisorIdentity
    worklist: WorkList
    panel: DecisionPanel
    contest: ContestBox


def decision_views(source: Any, desk: DecisionDesk) -> DecisionViews:
    identity = AdvisorIdentity(desk)
    return DecisionViews(identity, WorkList(source, desk, identity), DecisionPanel(desk, identity),
                         ContestBox(desk))

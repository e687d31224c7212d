"""What the dashboard app mounts for the decision record (one set per browser session)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.pages.decisions import ContestBox, DecisionPanel
from dashboard.pages.desk import AdvisorIdentity, DecisionDesk
from dashboard.pages.worklist import WorkList
from dashboard.texts import Texts


@dataclass
class DecisionViews:
    identity: AdvisorIdentity
    worklist: WorkList
    panel: DecisionPanel
    contest: ContestBox


def decision_views(source: Any, desk: DecisionDesk, tr: Texts) -> DecisionViews:
    identity = AdvisorIdentity(desk, tr)
    return DecisionViews(identity, WorkList(source, desk, identity, tr),
                         DecisionPanel(desk, identity, tr), ContestBox(desk, tr))

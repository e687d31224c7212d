"""`pad schedule`: the two deployments and their crons (the server itself is not started here)."""
from __future__ import annotations

import pytest

from flows.cli import main
from flows.schedule import build_deployments, check_cron
from warehouse.errors import BadInput


def test_two_deployments_with_their_crons_and_parameters() -> None:
    daily, weekly = build_deployments("0 6 * * *", "30 4 * * 1")
    assert (daily.name, weekly.name) == ("daily-refresh", "weekly-retrain")
    assert daily.schedules[0].schedule.cron == "0 6 * * *"
    assert weekly.schedules[0].schedule.cron == "30 4 * * 1"
    assert daily.parameters["retrain"] is False and weekly.parameters["retrain"] is True


def test_a_bad_cron_is_bad_usage(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(BadInput, match="--refresh-cron: 'every day' is not a valid cron"):
        check_cron("every day", "--refresh-cron")
    assert main(["schedule", "--retrain-cron", "61 * * * *"]) == 2
    assert capsys.readouterr().err.strip() == \
        "pad schedule: --retrain-cron: '61 * * * *' is not a valid cron expression"

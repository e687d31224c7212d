"""Fairness by group when a group is tiny: `make demo` (20,000 clients) failed its refresh in the
monitor step because fairlearn gave a 1-element array, not a number, for a group whose clients
all share one outcome and one decision."""
from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.monitoring.fairness import attribute_report


def test_a_group_of_one_client_gets_numbers() -> None:
    rng = np.random.default_rng(0)
    groups = pd.Series(["a"] * 50 + ["b"] * 50 + ["lone"])
    target = np.r_[rng.integers(0, 2, 100), 0]
    refused = np.r_[rng.integers(0, 2, 100), 1]
    frame = attribute_report("x", groups, target, rng.random(101), refused, min_group=10)
    for column in ("refusal_rate", "tpr", "fpr", "default_rate_granted"):
        assert frame[column].dtype == np.float64, column
    lone = frame.set_index("group").loc["lone"]
    assert lone["refusal_rate"] == 1.0 and lone["clients"] == 1

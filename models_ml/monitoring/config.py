"""The one place of `models_ml.monitoring` that reads the environment.

| variable                 | default | meaning                                                      |
|--------------------------|---------|--------------------------------------------------------------|
| `PAD_FAIRNESS_MIN_GROUP` | `100`   | groups smaller than this are reported with flag 'small_group' |
| `PAD_MONITOR_FEATURES`   | `20`    | top features (champion importance) whose drift is measured    |
"""
from __future__ import annotations

from warehouse.config import env_int


def fairness_min_group() -> int:
    return env_int("PAD_FAIRNESS_MIN_GROUP", 100)


def monitored_features() -> int:
    return env_int("PAD_MONITOR_FEATURES", 20)

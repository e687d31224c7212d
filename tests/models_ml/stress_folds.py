"""Cross-validation with concurrent folds, many times in one process (run as
`python -m tests.models_ml.stress_folds ITERATIONS`; prints `ok` when every run survived).

Shaped to hit the race of issue 9 (defect 7) as often as possible per second: mostly-zero
columns give LightGBM sparse feature groups (multi-value bins built when a booster is created),
folds of more than 2 × 1024 rows make that build use two blocks, and ten folds of three rounds
make dataset cutting and booster creation most of the work.
"""
from __future__ import annotations

import sys

import numpy as np

from models_ml.config import TrainConfig
from models_ml.train import build_dataset, cross_validate_and_fit

ROWS, FEATURES, FOLDS, ROUNDS = 3000, 300, 10, 3


def stress(iterations: int) -> list[int]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES)).astype(np.float32)
    X[:, 4:][rng.random((ROWS, FEATURES - 4)) < 0.9] = 0.0
    y = (rng.random(ROWS) < 1 / (1 + np.exp(-(X[:, 0] + X[:, 1] - 2.5)))).astype(np.int8)
    config = TrainConfig(folds=FOLDS, threads=2, min_child_samples=20, max_rounds=ROUNDS,
                         early_stopping_rounds=ROUNDS)
    dataset = build_dataset(X, y, [f"f{i}" for i in range(FEATURES)], config)
    best: list[int] = []
    for _ in range(iterations):
        # the final model grows in the same pool (booster creation beside the folds)
        best = cross_validate_and_fit(dataset, X, y, config)[0].best_iterations
    return best


if __name__ == "__main__":
    stress(int(sys.argv[1]))
    print("ok", flush=True)

"""The one place of `models_ml` that reads the environment; everything deeper takes arguments.

Knobs (all optional):

| variable                | default        | meaning                                                  |
|-------------------------|----------------|----------------------------------------------------------|
| `PAD_COST_FN_FP`        | `10`           | cost of a false negative (a defaulter granted) in units  |
|                         |                | of a false positive (a good client refused)              |
| `PAD_EXCLUDE_FEATURES`  | `code_gender`  | comma-separated; a feature is left out of the model when |
|                         |                | its name or its catalog source column contains one (so   |
|                         |                | columns derived from gender go too); empty = none        |
| `PAD_CALIBRATION`       | `platt`        | `platt` (affine in log-odds, fitted on OOF) or `none`    |
| `PAD_ML_THREADS`        | `PAD_THREADS`, else all cores | folds trained in parallel, threads of     |
|                         |                | binning, prediction and TreeSHAP                         |
| `PAD_ML_FINAL_THREADS`  | `1`            | LightGBM threads of the final model (OpenMP threads      |
|                         |                | stall each other on a busy 2-core machine)               |
| `PAD_ML_SEED`           | `42`           | folds, bagging, feature sampling                         |
| `PAD_ML_FOLDS`          | `3`            | stratified folds of the out-of-fold evaluation           |
| `PAD_ML_LEARNING_RATE`  | `0.15`         | LightGBM shrinkage                                       |
| `PAD_ML_MAX_TREES`      | `350`          | cap on the final model's trees (explanation budget)      |
| `PAD_ML_CHUNK_ROWS`     | `20000`        | clients per scoring/explanation chunk (bounded memory)   |
| `PAD_ML_MIN_HISTORY`    | `1000`         | training refuses (BadInput) below this many history      |
|                         |                | clients (known outcome) ...                              |
| `PAD_ML_MIN_DEFAULTS`   | `50`           | ... or below this many defaults, or this many repaid     |
|                         |                | clients (see TrainConfig.min_history_clients)            |

Score scaling (PDO, CONTRACTS §3) is fixed here rather than in the environment: it is part of
the meaning of a score, stored in every model's metadata, and the same for every refresh.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from warehouse.config import duckdb_threads, env_float, env_int
from warehouse.errors import BadInput

# Bumped when the meaning of an artifact changes (metadata layout, scaling semantics).
ARTIFACT_FORMAT = 1


@dataclass(frozen=True)
class ScoreScaling:
    """Points-to-double-the-odds scaling: score = offset + factor·ln(odds of repayment).

    With the defaults a client at odds 50:1 of repaying scores 600 and every 20 points double
    the odds: factor = 20 / ln 2 ≈ 28.8539, offset = 600 − factor·ln 50 ≈ 487.1228. Scores are
    rounded to integers; higher = safer.

    Risk bands are one PDO wide, so each step from A to E doubles the odds of default:
    A ≥ 580 (PD < 3.85 %), B 560–579 (PD < 7.4 %), C 540–559 (PD < 13.8 %), D 520–539
    (PD < 24.2 %), E < 520. The portfolio's average PD of ≈ 8 % sits at ≈ 558 points.
    """

    points: float = 600.0
    odds: float = 50.0
    pdo: float = 20.0
    band_floors: tuple[tuple[str, int], ...] = (("A", 580), ("B", 560), ("C", 540), ("D", 520))
    lowest_band: str = "E"

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.points - self.factor * math.log(self.odds)


@dataclass(frozen=True)
class TrainConfig:
    """LightGBM training, evaluation and decision settings.

    Tree shape, learning rate, tree cap and early stopping are sized for the 12-minute budget
    at full scale (356k clients × ~850 features, 2 cores). TreeSHAP costs O(leaves × depth²) per
    tree and row: with 15 leaves it is ≈ 3.3 s per 20k rows for ~110 trees here, 3× cheaper
    than with 31 leaves at 0.08 (≈ 10 s), and measured on the synthetic portfolio the smaller
    trees rank pending clients at least as well (AUC 0.8145 vs 0.8131; oracle 0.818).
    `max_trees` caps the explanation cost whatever early stopping finds.

    3 folds at learning rate 0.15 (issue 14, measured at full scale on one warehouse, 1 Dec
    2026): against 5 folds at 0.1, training CPU 163 → 84 s, 103 → 66 trees (TreeSHAP of every
    client ∝ trees), pending clients' AUC 0.8144 → 0.8135 (relative to the oracle 0.988 →
    0.985). 3 folds alone kept the AUC (0.8145) at 2/3 of the fold work; 0.2 fell to 0.984,
    and bagging half the rows to 0.980.
    """

    folds: int = 3
    seed: int = 42
    learning_rate: float = 0.15
    num_leaves: int = 15
    min_child_samples: int = 100
    feature_fraction: float = 0.2
    bagging_fraction: float = 0.8
    lambda_l2: float = 10.0
    max_bin: int = 63
    # rows LightGBM samples to place the bin boundaries (its default 200,000): 63 quantile bins
    # need far fewer, and at full scale the binning took ≈ 17 s of CPU with 200,000
    bin_sample: int = 50000
    max_rounds: int = 1000
    # Rounds a fold goes on without a better held-out AUC before it stops: every fold trains
    # this many trees past its best. 20 rather than 50: on a 100k-client portfolio the five
    # folds found the same best iterations (so the same final model and OOF predictions) with
    # 12 % less training CPU.
    early_stopping_rounds: int = 20
    max_trees: int = 350
    # parallel workers: folds in parallel (one LightGBM thread each), Dataset binning,
    # prediction and TreeSHAP (one parallel region per call, so threads scale there)
    threads: int = 2
    # LightGBM threads of the final model (see models_ml.train.cross_validate)
    final_threads: int = 1
    cost_fn_fp: float = 10.0
    exclude_features: tuple[str, ...] = ("code_gender",)
    calibration: str = "platt"
    guard_tolerance: float = 0.005
    importance_sample: int = 20000
    # The least data training accepts. Below ~50 defaults the out-of-fold AUC that the champion
    # guard and the threshold rely on is noise (its standard error is ~0.04 with 50 defaults,
    # 10 per validation fold), and the cost-optimal threshold is set by a handful of clients;
    # 1,000 history clients is the smallest portfolio whose folds keep a few hundred rows to
    # grow trees on. Below either, training stops with a BadInput naming both counts.
    min_history_clients: int = 1000
    min_defaults: int = 50

    def lgb_params(self, threads: int | None = None) -> dict[str, object]:
        """LightGBM parameters (no class reweighting: see models_ml.train)."""
        return {
            "objective": "binary",
            "metric": ["auc", "binary_logloss"],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "max_bin": self.max_bin,
            "bin_construct_sample_cnt": self.bin_sample,
            "num_threads": self.threads if threads is None else threads,
            "seed": self.seed,
            # identical models for identical data and thread count
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }


@dataclass(frozen=True)
class ExplainConfig:
    """Scoring and explanation output sizes."""

    chunk_rows: int = 20000
    top_drivers: int = 20
    max_reasons: int = 4
    # a family must cost at least this many points to be cited as a reason
    reason_min_points: float = 1.0


@dataclass(frozen=True)
class MlConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    explain: ExplainConfig = field(default_factory=ExplainConfig)
    scaling: ScoreScaling = field(default_factory=ScoreScaling)


def load_config(env: dict[str, str] | None = None) -> MlConfig:
    """The configuration from the environment (or `env`), defaults where unset."""
    env = dict(os.environ) if env is None else env
    train = TrainConfig(
        folds=env_int("PAD_ML_FOLDS", 3, minimum=2, env=env),
        seed=env_int("PAD_ML_SEED", 42, minimum=0, env=env),
        learning_rate=env_float("PAD_ML_LEARNING_RATE", 0.15, minimum=1e-4, env=env),
        max_trees=env_int("PAD_ML_MAX_TREES", 350, minimum=1, env=env),
        threads=env_int("PAD_ML_THREADS", duckdb_threads(env), minimum=1, env=env),
        final_threads=env_int("PAD_ML_FINAL_THREADS", 1, minimum=1, env=env),
        cost_fn_fp=env_float("PAD_COST_FN_FP", 10.0, minimum=1e-6, env=env),
        exclude_features=_read_list(env, "PAD_EXCLUDE_FEATURES", ("code_gender",)),
        calibration=_read_choice(env, "PAD_CALIBRATION", "platt", ("platt", "none")),
        min_history_clients=env_int("PAD_ML_MIN_HISTORY", 1000, minimum=10, env=env),
        min_defaults=env_int("PAD_ML_MIN_DEFAULTS", 50, minimum=2, env=env),
    )
    explain = ExplainConfig(chunk_rows=env_int("PAD_ML_CHUNK_ROWS", 20000, minimum=100, env=env))
    return MlConfig(train=train, explain=explain)


def _read_list(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if name not in env:
        return default
    return tuple(item.strip().lower() for item in env[name].split(",") if item.strip())


def _read_choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise BadInput(f"environment variable {name}={raw!r} must be one of {', '.join(choices)}")
    return raw

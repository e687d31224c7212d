"""Training with concurrent folds cannot crash the process (issue 9, defect 7).

Before the fix, a fold's dataset was cut lazily inside its thread with the parent's thread
count while another fold's booster was being created with one thread; LightGBM's process-wide
thread count then changed under the second, which indexed past its per-thread buffers and
segfaulted (gdb: LGBM_BoosterCreate → PushDataToMultiValBin beside LGBM_DatasetGetSubset).
A crash kills the interpreter, so the stress runs in a subprocess.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ITERATIONS = 30


@pytest.mark.slow
def test_concurrent_folds_survive_many_trainings() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "tests.models_ml.stress_folds",
                           str(ITERATIONS)], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    died = (f"killed by {signal.Signals(-done.returncode).name}" if done.returncode < 0
            else f"exit {done.returncode}")
    assert done.returncode == 0, f"training process {died}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == "ok"

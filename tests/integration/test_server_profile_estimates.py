"""A profile tuned in the simulator on predictions a live server cannot make: gbm-regress plans with gbm (the live
learner) and actual with the default, and the note says why (it said only "planning with user")."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest


def _start(tmp_path: Path, estimate: str) -> str:
    """What `hal server --profile` with that tuned estimate says until it names its runtime predictor."""
    prof = tmp_path / "p.toml"
    prof.write_text(f'order = "tuned"\nbackfill = "easy"\nestimate = "{estimate}"\n[order_args]\nw_pred = 1.0\n')
    log = tmp_path / "log"
    cmd = [sys.executable, "-m", "hal", "server", "--home", str(tmp_path / "h"), "--port", "0", "--profile", str(prof)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "runtime predictor" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return " ".join(log.read_text().split())


@pytest.mark.parametrize(
    ("tuned", "said", "planned"),
    [
        ("gbm-regress", "a live server learns gbm", "runtime predictor gbm from"),
        ("actual", "actual runtimes are unknown to a live server", "the requested times (user estimates)"),
    ],
)
def test_a_profile_tuned_on_an_offline_estimate_says_what_plans_and_why(
    tmp_path: Path, tuned: str, said: str, planned: str
) -> None:
    text = _start(tmp_path, tuned)
    assert f"note: the profile was tuned on {tuned} predictions ({said}" in text, text
    assert f"planning with {'gbm' if tuned == 'gbm-regress' else 'user'}" in text and planned in text, text

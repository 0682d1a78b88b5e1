"""`hal tune` fits weights on an earlier slice and reports them on a disjoint later one."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

from hal.engine.plugins.tuned import TunedArgs
from tests.unit.learn.conftest import SAMPLE


def test_tune_reports_train_and_test() -> None:
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:800", "--test", "1000:800"]
    done = subprocess.run([*cmd, "--budget", "8", "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["weights"]) == len(fields(TunedArgs)) and data["evaluations"] <= 8
    assert set(data["avg_bsld"]) == {"tuned", "fcfs", "sjf", "f1"}
    train, test = data["avg_bsld"]["tuned"]
    assert train <= min(v[0] for v in data["avg_bsld"].values()) + 1e-9  # the search starts from the heuristics
    assert test >= 1.0


def test_tune_dynamic_family_runs_and_unknown_family_is_refused() -> None:
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:400", "--test", "400:400", "--budget", "6"]
    done = subprocess.run([*cmd, "--family", "dynamic", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["evaluations"] <= 6
    done = subprocess.run([*cmd, "--family", "neural"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 and "unknown family" in done.stderr


def test_tune_refuses_a_test_slice_that_overlaps_training() -> None:
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:800", "--test", "500:800"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 and "overlaps" in done.stderr


def test_tune_refuses_bad_settings_before_simulating() -> None:
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:400"]
    for extra, message in [
        (["--backfill-order", "xyz"], "unknown backfill order"),
        (["--estimate", "bogus"], "unknown estimate"),
        (["--budget", "0"], "at least 1"),
        (["--train", "100000:100"], "training slice 100000:100 ends"),
    ]:
        done = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, done.stderr

"""`hal tune` fits weights on an earlier slice and reports them on a disjoint later one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from hal.engine.plugins.tuned import TunedArgs
from hal.engine.profile import Profile
from tests.unit.learn.conftest import SAMPLE


def test_tune_reports_train_and_test_and_its_profile_replays_in_simulate(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:800", "--test", "1000:800"]
    prof = tmp_path / "tuned.toml"
    done = subprocess.run([*cmd, "--budget", "8", "--json", "--profile-out", str(prof)],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["weights"]) == {f.name for f in fields(TunedArgs)} and data["evaluations"] <= 8
    assert set(data["avg_bsld"]) == {"tuned", "fcfs", "sjf", "f1"}
    train, test = data["avg_bsld"]["tuned"]
    assert train <= min(v[0] for v in data["avg_bsld"].values()) + 1e-9  # the search starts from the heuristics
    assert test >= 1.0
    assert Profile.from_toml(prof.read_text()).order_args == data["weights"]  # what hal server --profile reads
    assert Profile.from_toml(prof.read_text()).estimate == "last2"  # what the weights were tuned on
    sim = [sys.executable, "-m", "hal", "simulate", str(SAMPLE), "--window", "1000:800", "--estimate", "last2"]
    done = subprocess.run([*sim, "--profile", str(prof), "--summary-out", str(tmp_path / "s.json")],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "s.json").read_text())["avg_bsld"] == pytest.approx(test, rel=1e-9)
    plain = [sys.executable, "-m", "hal", "simulate", str(SAMPLE), "--window", "1000:800", "--profile", str(prof)]
    done = subprocess.run([*plain, "--summary-out", str(tmp_path / "p.json")], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert json.loads((tmp_path / "p.json").read_text())["avg_bsld"] == pytest.approx(test, rel=1e-9)  # last2, named
    done = subprocess.run([*plain, "--estimate", "user"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and "tuned on last2 predictions; running with --estimate user" in " ".join(
        done.stderr.split()
    )
    done = subprocess.run([*sim, "--order", "tuned"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 and "needs the weights hal tune found" in " ".join(done.stderr.split())
    done = subprocess.run([*sim, "--profile", str(prof), "--order", "sjf"], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode != 0 and "drop --order" in " ".join(done.stderr.split())
    done = subprocess.run([*sim, "--profile", str(prof), "--placement", "firstfit"], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode != 0 and "drop --placement" in " ".join(done.stderr.split())  # even at its default


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
        (["--budget", "3"], "at least 4 simulations"),
        (["--train", "100000:100"], "--train 100000:100 starts past the trace's 3,000 usable jobs"),
    ]:
        done = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


CLUSTER = """name = "sp"
[[nodes]]
prefix = "n"
count = 25
cpus = 4
[topology]
levels = ["switch"]
fanouts = [5]
"""


def test_tune_on_a_cluster_file_writes_its_placement_and_replays_in_simulate(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    on = ["--cluster", str(tmp_path / "c.toml")]
    prof = tmp_path / "tuned.toml"
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:400", "--test", "400:300", *on]
    done = subprocess.run([*cmd, "--placement", "topology", "--budget", "6", "--json", "--profile-out", str(prof)],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    test = json.loads(done.stdout)["avg_bsld"]["tuned"][1]
    assert Profile.from_toml(prof.read_text()).placement == "topology"  # the placement it was tuned with
    sim = [sys.executable, "-m", "hal", "simulate", str(SAMPLE), "--window", "400:300", "--estimate", "last2", *on]
    done = subprocess.run([*sim, "--profile", str(prof), "--summary-out", str(tmp_path / "s.json")],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "s.json").read_text())["avg_bsld"] == pytest.approx(test, rel=1e-9)
    for extra, message in [(["--procs", "100"], "give one of them"), (["--placement", "nearest"], "unknown placement")]:
        done = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode != 0 and message in " ".join(done.stderr.split()), done.stderr
    done = subprocess.run([*cmd[:-2], "--placement", "bestfit"], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "needs --cluster" in " ".join(done.stderr.split())


def test_the_printed_profile_is_valid_toml_in_a_narrow_terminal() -> None:
    """Copied from the terminal, it must read back: Rich wrapped its comment at 80 columns into a bare line."""
    cmd = [sys.executable, "-m", "hal", "tune", str(SAMPLE), "--train", "0:300", "--budget", "4"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "COLUMNS": "60"}
    )
    assert done.returncode == 0, done.stderr
    printed = done.stderr.split("as a profile (--profile-out FILE writes it):\n", 1)[1]
    assert Profile.from_toml(printed).order == "tuned"

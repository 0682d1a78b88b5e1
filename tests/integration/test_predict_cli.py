"""`hal predict-eval` and `hal simulate --estimate gbm` end to end on the shipped sample trace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from hal.engine.predict.gbm import GbmPredictor
from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, load
from hal.sim.simulator import Simulation, pool_for
from tests.integration.livekit import concurrently
from tests.unit.learn.conftest import SAMPLE, SMALL


def hal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hal", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_predict_eval_json_for_each_predictor() -> None:
    for name in ("user", "last2"):
        done = hal("predict-eval", str(SAMPLE), "--predictor", name, "--json")
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["jobs"] == 3000 and 0 < data["accuracy"] < 1
        assert set(data["by_class"]) == {"< 1 min", "1-10 min", "10 min-1 h", "1-4 h", "> 4 h"}
        assert data["predict_us_per_job"] > 0


def test_gbm_model_saved_then_reused_and_corrupt_file_falls_back(tmp_path: Path) -> None:
    """The commands that read the same model file run side by side (each is its own process; ~1 s apiece)."""
    model = tmp_path / "kth.hal"
    done = hal("predict-eval", str(SAMPLE), "--predictor", "gbm", "--retrain-every", "500", "--save-model", str(model))
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout and model.stat().st_size > 0
    again, seen, both = concurrently(
        lambda: hal("predict-eval", str(SAMPLE), "--predictor", "gbm", "--model", str(model), "--json"),
        lambda: hal("simulate", str(SAMPLE), "--estimate", "gbm", "--model", str(model)),  # simulate said nothing
        lambda: hal("simulate", str(SAMPLE), "--procs", "64", "--cluster", str(tmp_path / "any.toml")),
    )
    assert again.returncode == 0, again.stderr
    assert "has seen them" in " ".join(again.stderr.split())
    assert seen.returncode == 0 and "has seen them (results inflated)" in " ".join(seen.stderr.split())
    assert json.loads(again.stdout)["predictor"] == "gbm"
    model.write_bytes(b"\x00corrupt")
    bad, sim, nothing, *wrongs = concurrently(
        lambda: hal("predict-eval", str(SAMPLE), "--predictor", "gbm", "--model", str(model), "--json"),
        lambda: hal("simulate", str(SAMPLE), "--estimate", "gbm", "--model", str(model)),
        lambda: hal("predict-eval", str(SAMPLE), "--model", str(model), "--save-model", str(tmp_path / "new.hal")),
        *(
            lambda cmd=cmd: hal(cmd[0], str(SAMPLE), *cmd[1:], "--model", str(model))
            for cmd in (("predict-eval", "--predictor", "last2"), ("simulate", "--estimate", "user"))
        ),
    )
    assert bad.returncode == 0, bad.stderr
    assert "falling back to last2" in bad.stderr
    assert json.loads(bad.stdout)["predictor"] == "last2"
    assert sim.returncode == 0 and "est=last2" in sim.stdout and "est=gbm" not in sim.stdout  # labelled as it ran
    assert nothing.returncode != 0 and "ran on last2" in nothing.stderr
    assert both.returncode != 0 and "--procs and --cluster" in both.stderr
    for wrong in wrongs:
        assert wrong.returncode != 0 and "--model needs" in wrong.stderr


def test_gbm_regress_takes_its_options_and_bad_lines_are_reported(tmp_path: Path) -> None:
    accuracy = set()
    for alpha in ("0.2", "0.8"):
        done = hal("predict-eval", str(SAMPLE), "--predictor", "gbm-regress", "--alpha", alpha, "--json")
        assert done.returncode == 0, done.stderr
        accuracy.add(json.loads(done.stdout)["accuracy"])
    assert len(accuracy) == 2  # the quantile is used, not ignored
    trace = tmp_path / "bad.swf"
    trace.write_text(SAMPLE.read_text() + "garbage\n")
    done = hal("predict-eval", str(trace), "--predictor", "last2", "--json")
    assert done.returncode == 0 and "truncated" in done.stderr and json.loads(done.stdout)["jobs"] == 3000
    early = hal("predict-eval", str(SAMPLE), "--save-model", str(tmp_path / "no" / "such" / "m.hal"))
    assert early.returncode != 0 and "does not exist" in " ".join(early.stderr.split())  # before the replay


def test_a_prediction_is_never_a_kill_limit() -> None:
    _, workload = load(SAMPLE, SimOptions())
    book, space = pool_for(workload.capacity)
    pred = GbmPredictor(SMALL)
    out = Simulation(workload.jobs, book, space, Profile(backfill_order="sjf"), pred).run()
    assert out.done.all()
    assert np.array_equal(out.end - out.start, out.run)  # every job ran its whole real runtime
    assert (out.estimate < out.run).sum() > 100  # although many were predicted shorter than they ran
    assert pred.model is not None


def test_simulate_cli_accepts_gbm() -> None:
    done = hal("simulate", str(SAMPLE), "--estimate", "gbm", "--backfill-order", "sjf")
    assert done.returncode == 0, done.stderr
    assert "est=gbm" in done.stdout


def test_options_that_would_be_ignored_are_refused_and_a_missing_model_is_an_error(tmp_path: Path) -> None:
    for args, message in [
        (("--predictor", "last2", "--alpha", "0.7"), "--alpha: settings of the gbm models"),
        (("--predictor", "gbm", "--objective", "l1"), "select mode scores candidates"),
        (("--predictor", "gbm-regress", "--under-penalty", "0.5"), "regress mode leans long"),
        (("--predictor", "gbm", "--retrain-every", "-5"), "--retrain-every must be >= 0"),
        (("--predictor", "gbm", "--model", str(tmp_path / "typo.hal")), "model file not found"),
    ]:
        done = hal("predict-eval", str(SAMPLE), *args)
        said = " ".join(done.stderr.split())
        assert done.returncode == 2 and message in said and "Traceback" not in said, (args, said)
    sim = hal("simulate", str(SAMPLE), "--estimate", "gbm", "--model", str(tmp_path / "typo.hal"))
    assert sim.returncode == 2 and "model file not found" in " ".join(sim.stderr.split())


def test_empty_classes_have_no_scores_and_missing_requests_are_noted(tmp_path: Path) -> None:
    trace = tmp_path / "short.swf"  # every job under a minute, one without a requested time
    rows = [f"{i} {i * 10} 0 {20 + i} 1 -1 -1 1 {-1 if i == 1 else 600} -1 1 1 1 -1 -1 -1 -1 -1" for i in range(1, 5)]
    trace.write_text("; MaxProcs: 8\n" + "\n".join(rows) + "\n")
    done = hal("predict-eval", str(trace), "--predictor", "user", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["by_class"]["> 4 h"] == {"jobs": 0, "accuracy": None, "mae": None, "median_ae": None,
                                         "under_rate": None}  # fmt: skip
    assert "1 job(s) have no requested time" in " ".join(done.stderr.split())
    table = hal("predict-eval", str(trace), "--predictor", "last2")
    cells = [line.replace("\u2502", " ").split() for line in table.stdout.splitlines()]
    assert ["> 4 h", "0", "-", "-", "-", "-"] in [[" ".join(c[:-5]), *c[-5:]] for c in cells if len(c) > 5]
    bad = hal("predict-eval", str(trace), "--predictor", "gbm", "--under-penalty", "-1")
    assert bad.returncode != 0 and "--under-penalty" in bad.stderr


def test_a_window_scores_later_jobs_with_everything_earlier_learned(tmp_path: Path) -> None:
    """An analyst scores a later stretch and checks every figure from the per-job file (QA: neither existed)."""
    import csv

    whole, part = tmp_path / "whole.csv", tmp_path / "part.csv"
    assert hal("predict-eval", str(SAMPLE), "--predictor", "last2", "--csv-out", str(whole)).returncode == 0
    done = hal("predict-eval", str(SAMPLE), "--predictor", "last2", "--window", "2000:500", "--csv-out", str(part),
               "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(part.open()))
    assert len(rows) == 500 and json.loads(done.stdout)["jobs"] == 500
    assert rows == list(csv.DictReader(whole.open()))[2000:2500]  # online: the same predictions as a full replay
    ratios = [min(float(r["predicted"]), float(r["run"])) / max(float(r["predicted"]), float(r["run"]), 1e-9)
              if max(float(r["predicted"]), float(r["run"])) > 0 else 1.0 for r in rows]  # fmt: skip
    assert abs(sum(ratios) / len(ratios) - json.loads(done.stdout)["accuracy"]) < 2e-3  # whole seconds in the file
    late = hal("predict-eval", str(SAMPLE), "--window", "5000:10")
    assert late.returncode != 0 and "usable jobs" in late.stderr

"""QA of the what-if tools (simulate, compare, tune, predict-eval): outputs never overwrite inputs, labels say
what differs, windows pick the same jobs, and the notes a researcher needs are printed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hal.cli.main import app
from tests.clusters import cluster_toml

SAMPLE = Path(__file__).resolve().parents[2] / "src/hal/data/kth-sp2-sample.swf"


def run(*args: str | Path) -> tuple[Result, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())  # Rich wraps long lines


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLE, tmp_path / "t.swf"))


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(cluster_toml(name="c", nodes=16, cpus=8, topology={"switch": 4}), encoding="utf-8")
    return path


OVERWRITES = {
    "tune trace": ("tune", "{T}", "--train", "0:100", "--budget", "4", "--profile-out", "{T}"),
    "tune cluster": ("tune", "{T}", "--train", "0:100", "--budget", "4", "--cluster", "{C}", "--profile-out", "{C}"),
    "predict model": ("predict-eval", "{T}", "--predictor", "gbm", "--save-model", "{T}"),
    "predict csv": ("predict-eval", "{T}", "--predictor", "last2", "--csv-out", "{T}"),
    "compare trace": ("compare", "{T}", "--no-plots", "--policies", "easy:fcfs", "--summary-out", "{T}"),
    "compare cluster": ("compare", "{T}", "--no-plots", "--cluster", "{C}", "--policies", "easy:fcfs",
                        "--summary-out", "{C}"),
}  # fmt: skip


@pytest.mark.parametrize("case", OVERWRITES)
def test_an_output_that_is_an_input_is_refused_before_anything_is_written(
    trace: Path, cluster: Path, case: str
) -> None:
    """QA: tune, predict-eval and compare replaced their own trace (or cluster file) with their output."""
    before = trace.read_bytes(), cluster.read_bytes()
    result, said = run(*(a.format(T=trace, C=cluster) for a in OVERWRITES[case]))
    assert result.exit_code == 2 and "it is an input of this command" in said, said
    assert (trace.read_bytes(), cluster.read_bytes()) == before


def test_a_profile_compared_is_not_overwritten_by_the_summary(trace: Path, tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('order = "sjf"\nbackfill = "easy"\n', encoding="utf-8")
    result, said = run("compare", trace, "--no-plots", "--policies", f"easy:fcfs,{profile}", "--summary-out", profile)
    assert result.exit_code == 2 and "it is an input of this command" in said, said
    assert profile.read_text(encoding="utf-8").startswith('order = "sjf"')


def test_the_rlscheduler_setup_refuses_a_profile(trace: Path, tmp_path: Path) -> None:
    """QA: --setup rlscheduler --profile tuned.toml ran the setup's own order, the profile silently dropped."""
    profile = tmp_path / "tuned.toml"
    profile.write_text('order = "sjf"\nbackfill = "easy"\n', encoding="utf-8")
    result, said = run("simulate", trace, "--setup", "rlscheduler", "--profile", profile)
    assert result.exit_code == 2 and "drop --profile" in said, said


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_a_gbm_run_too_short_for_a_first_model_says_it_ran_last2(trace: Path, command: str) -> None:
    """QA: --estimate gbm --window 0:400 ran last2 (a first model needs 500 completions) labelled est=gbm."""
    extra = ("--no-plots", "--policies", "easy:fcfs") if command == "compare" else ()
    result, said = run(command, trace, "--estimate", "gbm", "--window", "0:400", *extra)
    assert result.exit_code == 0, said
    assert "fewer than the 500 a first model needs: every prediction was last2's" in said, said
    result, said = run(command, trace, "--estimate", "gbm", "--window", "0:1200", *extra)
    assert result.exit_code == 0 and "a first model needs" not in said, said


def test_runs_that_differ_are_labelled_apart_and_a_default_run_keeps_its_label(trace: Path, tmp_path: Path) -> None:
    """QA: a profile's correction = "double" and --whole-nodes ran under the same label as the defaults."""
    import json

    double = tmp_path / "double.toml"
    double.write_text('order = "fcfs"\nbackfill = "easy"\ncorrection = "double"\n', encoding="utf-8")
    cluster = tmp_path / "c.toml"
    cluster.write_text(cluster_toml(name="c", nodes=25, cpus=4), encoding="utf-8")
    labels = []
    for extra in ((), ("--profile", double), ("--cluster", cluster), ("--cluster", cluster, "--whole-nodes")):
        out = tmp_path / "s.json"
        result, said = run("simulate", trace, "--window", "0:200", *extra, "--summary-out", out)
        assert result.exit_code == 0, said
        labels.append(json.loads(out.read_text(encoding="utf-8"))["policy"])
    assert labels == [
        "easy:fcfs est=user",
        "easy:fcfs est=user correction=double",
        "easy:fcfs est=user place=topology",
        "easy:fcfs est=user place=topology whole-nodes",
    ]


def test_predict_eval_says_the_gbm_settings_it_ran_with(trace: Path) -> None:
    """QA: --mode regress --objective l2 --json reported "predictor": "gbm" and nothing of the settings."""
    import json

    result = CliRunner().invoke(
        app, ["predict-eval", str(trace), "--predictor", "gbm", "--mode", "regress", "--objective", "l2", "--json",
              "--window", "0:50"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["predictor"] == "gbm" and data["gbm"]["mode"] == "regress" and data["gbm"]["objective"] == "l2"
    assert {"alpha", "window", "retrain_every"} <= set(data["gbm"])
    _, said = run("predict-eval", trace, "--predictor", "gbm", "--mode", "regress", "--objective", "l2")
    assert "gbm (mode=regress, objective=l2) predictions" in said, said


UNSORTED = "".join(
    f"{job} {submit} 0 {run} 1 -1 -1 1 100 -1 1 1 1 -1 1 -1 -1 -1\n"
    for job, submit, run in ((1, 100, 10), (2, 0, 20), (3, 50, 30), (4, 10, 40))
)


def test_window_takes_the_same_jobs_in_simulate_and_predict_eval_on_an_unsorted_trace(tmp_path: Path) -> None:
    """QA: on lines not sorted by submit time, simulate --window 0:2 ran jobs 1 and 2, predict-eval scored 2, 4."""
    trace = tmp_path / "u.swf"
    trace.write_text("; MaxProcs: 8\n" + UNSORTED, encoding="utf-8")
    sim, pred = tmp_path / "sim.csv", tmp_path / "pred.csv"
    assert run("simulate", trace, "--window", "0:2", "--csv-out", sim)[0].exit_code == 0
    assert run("predict-eval", trace, "--predictor", "last2", "--window", "0:2", "--csv-out", pred)[0].exit_code == 0

    def ids(path: Path) -> set[str]:
        return {line.split(",")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]}

    assert ids(sim) == ids(pred) == {"1", "2"}


def test_stretch_slows_jobs_that_span_leaves_and_the_csv_shows_where_each_job_ran(trace: Path, tmp_path: Path) -> None:
    """QA: the stretch model was reachable only from a benchmark, and the per-job CSV had no placement columns
    (with --whole-nodes its procs column showed the allocated CPUs: job 16, 28 instead of the trace's 25)."""
    import csv
    import json

    cluster = tmp_path / "tree.toml"
    cluster.write_text(cluster_toml(name="t", nodes=16, cpus=8, topology={"switch": 4}), encoding="utf-8")
    base = ("simulate", trace, "--window", "0:300", "--cluster", cluster, "--whole-nodes", "--placement", "firstfit")
    figures = []
    for extra in ((), ("--stretch",)):
        summary, per_job = tmp_path / "s.json", tmp_path / "j.csv"
        result, said = run(*base, *extra, "--summary-out", summary, "--csv-out", per_job)
        assert result.exit_code == 0, said
        figures.append(json.loads(summary.read_text(encoding="utf-8")))
    assert figures[1]["policy"] == figures[0]["policy"] + " stretch"
    assert figures[1]["avg_bsld"] > figures[0]["avg_bsld"]
    rows = {r["job_id"]: r for r in csv.DictReader(per_job.open(encoding="utf-8"))}
    assert rows["16"]["procs"] == "25" and rows["16"]["allocated"] == "32" and rows["16"]["node_count"] == "4"
    spread = [r for r in rows.values() if int(r["leaves"]) > 1]
    assert spread and all(r["level"] == "2" and float(r["run"]) >= float(r["trace_run"]) for r in spread)
    # slower, except where the trace ran past its --time already (jobs 127-130: 111-160 s on 60 s): run as there
    assert sum(float(r["run"]) > float(r["trace_run"]) for r in spread) > len(spread) / 2
    assert all(r["nodes"].startswith("n") for r in rows.values())
    result, said = run("simulate", trace, "--stretch")
    assert result.exit_code == 2 and "it needs --cluster" in said, said


def test_small_refusals_and_notes(trace: Path, tmp_path: Path) -> None:
    """QA: duplicate --topology-reserve keys were taken silently, --segment on a tree without a block level did
    nothing without a word, and tune's too-long default test slice was not said (it runs the jobs there are)."""
    tree = tmp_path / "tree.toml"
    tree.write_text(cluster_toml(name="t", nodes=16, cpus=8, topology={"switch": 4}), encoding="utf-8")
    result, said = run("simulate", trace, "--cluster", tree, "--whole-nodes", "--topology-reserve", "wait=1,wait=2")
    assert result.exit_code == 2 and "gives wait more than once" in said, said
    gpus = tmp_path / "gpu.toml"
    gpus.write_text(
        '[[nodes]]\nprefix = "g"\ncount = 32\ncpus = 8\ngpus = 4\n[topology]\nlevels = ["switch"]\nfanouts = [4]\n',
        encoding="utf-8",
    )
    result, said = run("simulate", trace, "--window", "0:50", "--cluster", gpus, "--gpus", "--segment")
    assert result.exit_code == 0 and "has no block level (switch); each segment is kept inside one switch" in said
    result, said = run("tune", trace, "--train", "0:2900", "--budget", "4")
    past = "--test 2900:2900 runs past the trace's 3,000 usable jobs: it holds the last 100"  # run, as simulate does
    assert result.exit_code == 0 and past in said, said


def test_a_topology_conf_warning_prints_once(trace: Path, tmp_path: Path) -> None:
    """QA: hal simulate printed each topology.conf warning three times (the cluster file was read at each step)."""
    import subprocess
    import sys

    (tmp_path / "topology.conf").write_text(
        "SwitchName=s0 Nodes=n[000-003]\nSwitchName=s1 Nodes=n[004-007],x[0-3]\nSwitchName=top Switches=s[0-1]\n",
        encoding="utf-8",
    )
    cluster = tmp_path / "c.toml"
    cluster.write_text(
        'name = "c"\n[[nodes]]\nprefix = "n"\ncount = 8\ncpus = 16\n[topology]\nslurm_conf = "topology.conf"\n',
        encoding="utf-8",
    )
    hal = Path(sys.executable).parent / "hal"
    done = subprocess.run(
        [str(hal), "simulate", str(trace), "--window", "0:50", "--cluster", str(cluster)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (done.stdout + done.stderr).count("not in the cluster; ignored") == 1, done.stderr

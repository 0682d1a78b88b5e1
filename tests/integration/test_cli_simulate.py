"""`hal simulate` and `hal compare` on the shipped KTH-SP2 sample: every policy writes consistent outputs."""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.generate import WorkloadShape, generate
from hal.sim.swf import read_swf, write_swf

SUMMARY_KEYS = {
    "jobs",
    "avg_wait",
    "avg_bsld",
    "max_bsld",
    "utilization",
    "makespan",
    "wall_seconds",
    "jobs_per_second",
}
CSV_COLUMNS = ["job_id", "submit", "start", "end", "wait", "run", "procs", "estimate", "backfilled", "bsld"]
ORDERS = ("fcfs", "sjf", "f1", "wfp3", "unicep", "multifactor")
BACKFILLS = ("none", "easy", "conservative")
ESTIMATES = ("user", "actual", "last2")
WINDOW = 600  # jobs per combination: enough queueing on the 100-processor machine, quick on 2 cores


def hal(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=cwd)


def outputs(folder: Path) -> tuple[Path, Path, Path]:
    return folder / "jobs.swf", folder / "jobs.csv", folder / "summary.json"


def read_csv(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    with path.open() as fh:
        rows = list(csv.reader(fh))
    header = [h for h in rows[0] if h != "nodes"]  # the node host list (a cluster file's run) is text
    keep = [i for i, h in enumerate(rows[0]) if h != "nodes"]
    body = np.array([[r[i] for i in keep] for r in rows[1:]], dtype=np.float64)
    return header, {name: body[:, i] for i, name in enumerate(header)}


def check_outputs(folder: Path, sample: Path, n_jobs: int, backfill: str = "easy") -> dict[str, Any]:
    """The three files agree with each other, with the input trace and with the metric definitions."""
    jobs_out, csv_out, summary_out = outputs(folder)
    summary: dict[str, Any] = json.loads(summary_out.read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["jobs"] == n_jobs and summary["skipped"] == 0
    header, col = read_csv(csv_out)
    assert header == CSV_COLUMNS and len(col["job_id"]) == n_jobs
    np.testing.assert_allclose(col["wait"], col["start"] - col["submit"], atol=1)
    # times are printed rounded to the second; starts may fall between seconds (a prediction corrected at x.5 s)
    assert (col["wait"] >= 0).all() and (abs(col["end"] - col["start"] - col["run"]) <= 1).all()
    # bounded slowdown with tau = 10 s, up to the rounding of the printed wait
    bsld = np.maximum(1, (col["wait"] + col["run"]) / np.maximum(col["run"], 10))
    assert (abs(col["bsld"] - bsld) <= 0.5 / np.maximum(col["run"], 10) + 1e-4).all()
    assert summary["avg_wait"] == pytest.approx(col["wait"].mean(), abs=0.5)
    assert summary["avg_bsld"] == pytest.approx(col["bsld"].mean(), rel=1e-4)
    assert summary["max_bsld"] == pytest.approx(col["bsld"].max(), rel=1e-4)
    span = col["end"].max() - col["submit"].min()
    assert summary["makespan"] == pytest.approx(span, abs=1)
    assert summary["utilization"] == pytest.approx((col["run"] * col["procs"]).sum() / (100 * span), rel=1e-6)
    assert 0 < summary["utilization"] <= 1
    if backfill == "none":
        assert col["backfilled"].sum() == 0 and summary["backfilled"] == 0
    # jobs-out: the input records, in submit order under the input's header, field 3 the simulated wait
    written = read_swf(jobs_out)
    assert written.max_procs == 100 and not written.problems
    original = {r.job_id: r for r in read_swf(sample).records}
    waits = dict(zip(col["job_id"].astype(int).tolist(), col["wait"].tolist(), strict=True))
    submits = []
    for rec in written.records:
        assert rec.wait == pytest.approx(waits[rec.job_id], abs=1)
        rec.wait = original[rec.job_id].wait
        assert rec == original[rec.job_id]  # every other field is the input's
        submits.append(rec.submit)
    assert len(written.records) == n_jobs and (np.diff(submits) >= 0).all()
    assert written.header["Installation"] == read_swf(sample).header["Installation"]
    return summary


@pytest.mark.parametrize(("order", "backfill"), list(itertools.product(ORDERS, BACKFILLS)))
def test_every_policy_writes_consistent_outputs(tmp_path: Path, sample: Path, order: str, backfill: str) -> None:
    """All 54 order x backfill x estimate combinations, in-process through the real Typer app."""
    runner = CliRunner()
    for estimate in ESTIMATES:
        folder = tmp_path / estimate
        folder.mkdir()
        jobs_out, csv_out, summary_out = outputs(folder)
        args = ["simulate", str(sample), "--order", order, "--backfill", backfill, "--estimate", estimate]
        args += ["--window", f"0:{WINDOW}", "--jobs-out", str(jobs_out), "--csv-out", str(csv_out)]
        result = runner.invoke(app, [*args, "--summary-out", str(summary_out)])
        assert result.exit_code == 0, result.output
        summary = check_outputs(folder, sample, WINDOW, backfill)
        assert summary["policy"] == f"{backfill}:{order} est={estimate}"


def test_fcfs_without_backfilling_starts_jobs_in_submission_order(tmp_path: Path, sample: Path) -> None:
    csv_out = tmp_path / "jobs.csv"
    result = CliRunner().invoke(app, ["simulate", str(sample), "--backfill", "none", "--csv-out", str(csv_out)])
    assert result.exit_code == 0, result.output
    _, col = read_csv(csv_out)
    assert len(col["job_id"]) == 3000
    order = np.argsort(col["job_id"], kind="stable")
    assert (np.diff(col["start"][order]) >= 0).all()


def test_the_whole_sample_through_the_real_command(tmp_path: Path, sample: Path) -> None:
    jobs_out, csv_out, summary_out = outputs(tmp_path)
    done = hal(
        "simulate", sample, "--jobs-out", jobs_out, "--csv-out", csv_out, "--summary-out", summary_out, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "kth-sp2-sample.swf on 100 processors" in done.stdout and "easy:fcfs est=user" in done.stdout
    summary = check_outputs(tmp_path, sample, 3000)
    assert summary["jobs_per_second"] > 0 and summary["wall_seconds"] > 0


def test_a_window_simulates_exactly_its_jobs(tmp_path: Path, sample: Path) -> None:
    csv_out, summary_out = tmp_path / "jobs.csv", tmp_path / "summary.json"
    args = [
        "simulate",
        str(sample),
        "--window",
        "100:500",
        "--csv-out",
        str(csv_out),
        "--summary-out",
        str(summary_out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(summary_out.read_text())["jobs"] == 500
    ids = sorted(r.job_id for r in read_swf(sample).records)
    _, col = read_csv(csv_out)
    assert sorted(col["job_id"].astype(int).tolist()) == ids[100:600]


@pytest.mark.parametrize(("nodes", "placement", "skipped"), [(25, "firstfit", 0), (16, "bestfit", 5)])
def test_a_cluster_file_places_jobs_on_nodes(
    tmp_path: Path, sample: Path, nodes: int, placement: str, skipped: int
) -> None:
    """25 nodes x 4 cpus is KTH's 100 processors; on 16 nodes the jobs wider than 64 are skipped (5 of them in the
    window's stretch of the trace; 81 in the whole trace, which a window reported before): the window still names
    the trace's first 400 jobs, so 395 run (it was counted after the drop, and moved with the machine)."""
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(
        f'name = "mini"\n[[nodes]]\nprefix = "n"\ncount = {nodes}\ncpus = 4\nmem = "2G"\n'
        '[[partitions]]\nname = "batch"\ndefault = true\n[topology]\nlevels = ["switch"]\nfanouts = [8]\n'
    )
    csv_out, summary_out = tmp_path / "jobs.csv", tmp_path / "summary.json"
    args = ["simulate", str(sample), "--cluster", str(cluster), "--placement", placement, "--window", "0:400"]
    result = CliRunner().invoke(app, [*args, "--csv-out", str(csv_out), "--summary-out", str(summary_out)])
    assert result.exit_code == 0, result.output
    assert f"on {nodes * 4} processors" in result.output
    summary = json.loads(summary_out.read_text())
    assert (summary["jobs"], summary["skipped"]) == (400 - skipped, skipped)
    _, col = read_csv(csv_out)
    assert col["procs"].max() <= nodes * 4 and (col["wait"] >= 0).all()
    assert 0 < summary["utilization"] <= 1


def test_compare_writes_the_two_plots(tmp_path: Path, sample: Path) -> None:
    plots, summary_out = tmp_path / "plots", tmp_path / "all.json"
    policies = "easy:fcfs,none:fcfs,conservative:sjf"
    args: list[str | Path] = ["compare", sample, "--policies", policies, "--window", "0:400"]
    done = hal(*args, "--plots", plots, "--summary-out", summary_out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("wait_distribution.png", "queue_utilization.png"):
        data = (plots / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    summaries = json.loads(summary_out.read_text())
    assert set(summaries) == {"easy:fcfs", "none:fcfs", "conservative:sjf"}
    assert all(s["jobs"] == 400 for s in summaries.values())
    assert summaries["none:fcfs"]["avg_bsld"] >= summaries["easy:fcfs"]["avg_bsld"]


def test_compare_places_on_a_tree_and_takes_profile_files(tmp_path: Path, sample: Path) -> None:
    tree = tmp_path / "tree.toml"
    tree.write_text('[[nodes]]\nprefix = "n"\ncount = 25\ncpus = 4\n[topology]\nlevels = ["switch"]\nfanouts = [5]\n')
    prof = tmp_path / "sjf.toml"
    prof.write_text('order = "sjf"\nbackfill = "easy"\n')  # no placement: the tree's, as hal server does
    args: list[str | Path] = ["compare", sample, "--cluster", tree, "--window", "0:300", "--no-plots"]
    done = hal(*args, "--policies", f"easy:fcfs,{prof}", "--placement", "topology", "--summary-out",
               tmp_path / "all.json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = json.loads((tmp_path / "all.json").read_text())
    assert set(runs) == {"easy:fcfs", str(prof)} and all("topology" in r for r in runs.values())
    assert "topology: multi-node jobs (easy:fcfs)" in done.stdout
    sim = hal("simulate", sample, "--cluster", tree, "--window", "0:300", "--placement", "topology",
              "--summary-out", tmp_path / "one.json", cwd=tmp_path)  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    assert json.loads((tmp_path / "one.json").read_text())["avg_bsld"] == runs["easy:fcfs"]["avg_bsld"]


def test_rlscheduler_setup_on_a_small_generated_trace(tmp_path: Path) -> None:
    trace, summary_out = tmp_path / "gen.swf", tmp_path / "rl.json"
    write_swf(
        trace, generate(WorkloadShape(jobs=2100, procs=64, load=0.9, seed=3)), {"MaxNodes": "64", "MaxProcs": "64"}
    )
    args: list[str | Path] = ["simulate", trace, "--setup", "rlscheduler", "--order", "f1", "--backfill", "easy"]
    done = hal(*args, "--summary-out", summary_out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(summary_out.read_text())
    assert (data["setup"], data["order"], data["backfill"]) == ("rlscheduler", "f1", True)
    assert len(data["window_bsld"]) == len(data["window_starts"]) == 10
    assert all(1024 <= s <= 2100 - 1024 - 1 for s in data["window_starts"])
    assert data["avg_bsld"] == pytest.approx(sum(data["window_bsld"]) / 10) and data["avg_bsld"] >= 1
    refused = hal("simulate", trace, "--setup", "rlscheduler", "--backfill", "conservative", cwd=tmp_path)
    assert refused.returncode == 2 and "use --backfill none or easy" in " ".join(refused.stderr.split())


def test_same_input_same_schedule_across_processes(tmp_path: Path, sample: Path) -> None:
    """Determinism does not hang on Python's per-process string hashing (sets of users, shapes, ...)."""
    schedules = []
    for seed in ("1", "2"):
        csv_out = tmp_path / f"jobs-{seed}.csv"
        cmd = [sys.executable, "-m", "hal", "simulate", str(sample), "--order", "multifactor", "--estimate", "last2"]
        cmd += ["--backfill", "conservative", "--window", "0:300", "--csv-out", str(csv_out)]
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        schedules.append(csv_out.read_text())
    assert schedules[0] == schedules[1]


def test_options_that_cannot_apply_are_refused_before_the_run(sample: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.toml"
    mixed.write_text('[[nodes]]\nprefix = "a"\ncount = 4\ncpus = 4\n[[nodes]]\nprefix = "b"\ncount = 4\ncpus = 8\n')
    cases = [
        (["simulate", "--summary-out", str(tmp_path / "no" / "s.json")], "does not exist"),
        (["simulate", "--csv-out", str(tmp_path)], "it is a folder"),
        (["simulate", "--jobs-out", "/proc/hal-test.swf"], "cannot write /proc/hal-test.swf"),  # os.access said yes
        (["compare", "--plots", str(tmp_path / "mixed.toml" / "sub")], "cannot write plots into"),
        (["simulate", "--setup", "rlscheduler", "--estimate", "actual"], "drop --estimate"),
        (["simulate", "--placement", "bestfit"], "needs --cluster"),
        (["simulate", "--backfill", "none", "--backfill-order", "sjf"], "needs backfill 'easy'"),
        (["simulate", "--drop-status", "x"], "status numbers"),
        (["simulate", "--drop-status", "0,5,99"], "SWF statuses are -1 and 0 to 5 (field 11), not 99"),
        (["simulate", "--min-runtime", "-5"], "min-runtime"),
        (["simulate", "--cluster", str(mixed), "--whole-nodes"], "nodes of one size"),
        (["compare", "--estimate", "bogus"], "unknown estimate"),
        (["compare", "--procs", "50", "--cluster", str(mixed)], "--procs and --cluster"),
        (["compare", "--policies", ""], "names no policy"),
        (["compare", "--policies", "easy:fcfs,easy:fcfs:queue"], "one policy twice: easy:fcfs and easy:fcfs:queue"),
        (["simulate", "--jobs-out", str(sample)], "it is an input of this command"),
        (["simulate", "--jobs-out", str(tmp_path / "a"), "--csv-out", str(tmp_path / "a")], "two outputs are the same"),
        (["compare", "--model", str(tmp_path / "m.hal")], "--model needs --estimate gbm"),
        (["compare", "--placement", "topology"], "needs --cluster"),
        (["compare", "--policies", str(tmp_path / "none.toml")], "cannot read the profile"),
        (["compare", "--estimate", "gbm", "--model", str(tmp_path / "m.hal")], "model file not found"),
        (["explain", "job_id", "--cluster", str(mixed)], "trace job number"),
    ]
    for args, message in cases:
        cmd, rest = args[0], args[1:]
        where = [] if cmd == "explain" else [str(sample)]
        if cmd == "explain":
            rest = [*rest, "--trace", str(sample)]
        result = CliRunner().invoke(app, [cmd, *where, *rest])
        said = " ".join(result.output.split())  # Rich wraps long messages
        assert result.exit_code == 2 and message in said, (args, said)
    missing = CliRunner().invoke(app, ["explain", "20", "--trace", str(tmp_path / "none.swf"), "--cluster", str(mixed)])
    assert missing.exit_code == 2 and "not found" in missing.output
    small = tmp_path / "small.toml"
    small.write_text('[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 8\n')
    big = CliRunner().invoke(app, ["explain", "16", "--trace", str(sample), "--cluster", str(small)])
    assert big.exit_code == 2 and "needs 25 processors, machine has 8" in " ".join(big.output.split())


def test_simulate_on_a_tree_reports_spans_and_fragmentation(sample: Path, tmp_path: Path) -> None:
    """`hal simulate --cluster` on a tree prints (and writes to --summary-out) the multi-node jobs' spans over
    the tree and the leaf fragmentation, so a what-if shows what topology placement changes."""
    tree = tmp_path / "tree.toml"
    tree.write_text('[[nodes]]\nprefix = "n"\ncount = 16\ncpus = 8\n[topology]\nlevels = ["rack", "switch"]\n'
                    "fanouts = [2, 4]\n")  # fmt: skip
    shares = {}
    for placement in ("firstfit", "topology"):
        summary = tmp_path / f"{placement}.json"
        args = ["simulate", str(sample), "--cluster", str(tree), "--whole-nodes", "--placement", placement]
        result = CliRunner().invoke(app, [*args, "--window", "0:1000", "--summary-out", str(summary)])
        assert result.exit_code == 0, result.output
        assert "in fewest leaves" in result.output and "leaf fragmentation" in result.output
        topo = json.loads(summary.read_text())["topology"]
        assert topo["multi_node"] > 100 and 0.0 <= topo["avg_fragmentation"] <= 1.0
        shares[placement] = topo["fewest_leaf_share"]
    assert shares["topology"] > shares["firstfit"] + 0.1


def test_explain_replays_the_whole_trace_as_simulate_does(sample: Path, tmp_path: Path) -> None:
    """The what-if explain cut the trace 100 jobs after the one explained, so jobs that backfilled later were
    missing and it reported another start than `hal simulate` (job 2324 of the sample: 7 hours apart)."""
    tree = tmp_path / "tree.toml"
    tree.write_text('[[nodes]]\nprefix = "n"\ncount = 100\ncpus = 1\n[topology]\nlevels = ["spine", "leaf"]\n'
                    "fanouts = [4, 5]\n")  # fmt: skip
    out = tmp_path / "jobs.csv"
    done = CliRunner().invoke(app, ["simulate", str(sample), "--cluster", str(tree), "--placement", "topology",
                                    "--csv-out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    start = next(float(r["start"]) for r in csv.DictReader(out.open()) if r["job_id"] == "2324")
    said = CliRunner().invoke(app, ["explain", "2324", "--trace", str(sample), "--cluster", str(tree)])
    assert said.exit_code == 0, said.output
    assert f"started at t={start:.0f} s" in " ".join(said.output.split())


def test_a_trace_runs_in_the_default_partition_and_fewest_leaves_count_within_it(sample: Path, tmp_path: Path) -> None:
    """A trace that names no partitions runs in the cluster's default partition (its nodes), as a live server
    puts jobs without -p; 'in fewest leaves' counts the leaves the job's partition has (it counted the machine's)."""
    part = tmp_path / "part.toml"
    part.write_text(
        '[[nodes]]\nprefix = "a"\ncount = 64\ncpus = 1\npartitions = ["small", "all"]\n'
        '[[nodes]]\nprefix = "b"\ncount = 64\ncpus = 1\npartitions = ["all"]\n'
        '[[partitions]]\nname = "small"\ndefault = true\n[[partitions]]\nname = "all"\n'
        '[topology]\nlevels = ["leaf"]\nfanouts = [32]\n'
    )  # 4 leaves of 32 nodes; "small" (the default) has the first two
    summary = tmp_path / "s.json"
    done = CliRunner().invoke(app, ["simulate", str(sample), "--cluster", str(part), "--placement", "topology",
                                    "--window", "0:500", "--summary-out", str(summary)])  # fmt: skip
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "needs 100 tasks" in said or "the partition has 64" in said  # 100-processor jobs no longer fit
    topo = json.loads(summary.read_text())["topology"]
    # within the partition's two leaves: 90% of the jobs in the fewest leaves that can hold their tasks (it said
    # 100% while jobs of tasks counted as in the fewest whatever their span; the replay is deterministic)
    assert topo["fewest_leaf_share"] == pytest.approx(0.8971, abs=1e-3)


def test_trace_check_reports_what_a_replay_skips_and_refuses(tmp_path: Path, sample: Path) -> None:
    """It passed files simulate refused (a header value that is not a number) and said nothing of the jobs a
    replay skips (a repeated id, no processor count)."""
    good = CliRunner().invoke(app, ["trace", "check", str(sample)])
    assert good.exit_code == 0 and "3000 jobs a replay runs" in " ".join(good.output.split())
    bad = tmp_path / "bad.swf"
    line = "1 0 0 10 {p} -1 -1 {p} 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
    bad.write_text("; MaxProcs: 8\n" + line.format(p=2) + line.format(p=2) + line.replace("1 0", "2 0").format(p=-1))
    said = " ".join(CliRunner().invoke(app, ["trace", "check", str(bad)]).output.split())
    assert "1 jobs a replay runs" in said and "2 job(s) skipped by a replay" in said
    assert "the same job id as line 2" in said and "no processor count" in said
    header = tmp_path / "header.swf"
    header.write_text("; MaxProcs: abc\n" + line.format(p=2))
    done = CliRunner().invoke(app, ["trace", "check", str(header)])
    assert done.exit_code == 1 and "header MaxProcs: 'abc' is not a number" in " ".join(done.output.split())


def test_jobs_out_describes_the_record_replayed_when_an_id_repeats(tmp_path: Path) -> None:
    """The second record of a repeated id is skipped, but --jobs-out wrote it in place of the job simulated."""
    trace = tmp_path / "dup.swf"
    trace.write_text(
        "; MaxProcs: 100\n1 0 0 100 4 -1 -1 4 200 -1 1 1 1 -1 -1 -1 -1 -1\n"
        "1 10 0 50 2 -1 -1 2 100 -1 1 1 1 -1 -1 -1 -1 -1\n3 20 0 60 4 -1 -1 4 100 -1 1 2 1 -1 -1 -1 -1 -1\n"
    )
    out = tmp_path / "out.swf"
    result = CliRunner().invoke(app, ["simulate", str(trace), "--jobs-out", str(out)])
    assert result.exit_code == 0, result.output
    first = read_swf(out).records[0]
    assert (first.job_id, first.submit, first.run, first.procs) == (1, 0, 100, 4)


def test_fewest_leaf_share_counts_jobs_of_tasks_too(tmp_path: Path) -> None:
    """Without --whole-nodes every job counted as placed in the fewest leaves (100%, in hal compare too): the
    minimum was computed as if all its tasks had to fit one node (QA)."""
    cluster = tmp_path / "small.toml"
    cluster.write_text('[[nodes]]\nprefix = "n"\ncount = 8\ncpus = 8\n[topology]\nlevels = ["leaf"]\nfanouts = [4]\n')
    trace = tmp_path / "mini.swf"
    trace.write_text("; MaxProcs: 64\n" + "".join(
        f"{i} {i} -1 1000 24 -1 -1 24 1000 -1 1 1 1 -1 1 -1 -1 -1\n" for i in range(1, 6)))  # fmt: skip
    shares = []
    for whole in ("--whole-nodes", "--no-whole-nodes"):
        out = tmp_path / f"{whole}.json"
        args = ["simulate", str(trace), "--cluster", str(cluster), "--placement", "firstfit", whole]
        result = CliRunner().invoke(app, [*args, "--summary-out", str(out)])
        assert result.exit_code == 0, result.output
        shares.append(json.loads(out.read_text())["topology"]["fewest_leaf_share"])
    assert shares == [0.6, 0.6]


def test_a_window_reports_the_skips_of_its_own_stretch(tmp_path: Path, sample: Path) -> None:
    """--window 0:300 reported the 128 skips of the whole trace (11 of them in the window), QA."""
    summary = tmp_path / "s.json"
    args = ["simulate", str(sample), "--window", "0:300", "--procs", "50", "--summary-out", str(summary)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    whole = CliRunner().invoke(app, ["simulate", str(sample), "--procs", "50", "--summary-out", str(tmp_path / "w")])
    assert whole.exit_code == 0
    skipped, all_skipped = (
        json.loads(summary.read_text())["skipped"],
        json.loads((tmp_path / "w").read_text())["skipped"],
    )
    assert 0 < skipped < all_skipped

"""QA (capacity planner): on a cluster file whose partition allows 86,400 s, jobs of 200,000 s ran whole, unsaid,
while one asking 100,000 s was skipped (PartitionTimeLimit). A partition's max_time is a what-if the planner set:
a run past it is killed there (TIMEOUT), counted and written so; a run past the job's own request is still replayed
as the trace ran it, and counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import read_swf

CLUSTER = """name = "limits"
[[nodes]]
prefix = "g"
count = 4
cpus = 8
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
max_time = 86400
"""
TRACE = (
    "; MaxProcs: 32\n"
    "1 0 -1 200000 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"  # no request: the partition's limit, killed there
    "2 10 -1 200000 4 -1 -1 4 100000 -1 1 1 1 -1 -1 -1 -1 -1\n"  # asks more than the partition allows: skipped
    "3 20 -1 200000 4 -1 -1 4 80000 -1 1 1 1 -1 -1 -1 -1 -1\n"  # past its request and the partition's limit
    "4 30 -1 85000 4 -1 -1 4 80000 -1 1 1 1 -1 -1 -1 -1 -1\n"  # past its request, within the partition's limit
    "5 40 -1 100 4 -1 -1 4 200 -1 1 1 1 -1 -1 -1 -1 -1\n"
)


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.stdout.split()), " ".join(result.stderr.split())


def test_a_run_past_its_partitions_limit_is_killed_there_and_counted(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    (tmp_path / "t.swf").write_text(TRACE)
    code, out, said = run("simulate", tmp_path / "t.swf", "--cluster", tmp_path / "c.toml", "--placement", "firstfit",
                          "--summary-out", tmp_path / "s.json", "--jobs-out", tmp_path / "o.swf")  # fmt: skip
    assert code == 0, said
    assert "job 2: PartitionTimeLimit" in said, said
    written = {r.job_id: r for r in read_swf(tmp_path / "o.swf").records}
    assert (written[1].run, written[1].status) == (86400, 0)  # ran 200,000 s
    assert (written[3].run, written[3].status) == (86400, 0)
    assert (written[4].run, written[4].status) == (85000, 1)  # the trace's overrun of its request, as it ran
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["jobs"] == 4 and summary["skipped"] == 1
    assert summary["killed_at_partition_limit"] == 2 and summary["ran_past_request"] == 2, summary
    assert "killed at partition limit: 2 job(s)" in out, out
    # utilization leaves out the killed jobs' work, as a stretch kill's: jobs 4 and 5 only
    span = summary["makespan"]
    assert summary["utilization"] == (85000 * 4 + 100 * 4) / (32 * span)


def test_without_a_cluster_runs_past_the_request_are_counted(tmp_path: Path) -> None:
    (tmp_path / "t.swf").write_text(TRACE)
    code, _, said = run("simulate", tmp_path / "t.swf", "--summary-out", tmp_path / "s.json")
    assert code == 0, said
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["killed_at_partition_limit"] == 0 and summary["ran_past_request"] == 3, summary


def test_compare_applies_the_same_rule(tmp_path: Path) -> None:
    """hal compare on the same cluster file agreed with neither simulate nor tune: it ran the jobs whole."""
    (tmp_path / "c.toml").write_text(CLUSTER)
    (tmp_path / "t.swf").write_text(TRACE)
    policies = ("--policies", "easy:fcfs,conservative:fcfs", "--summary-out", tmp_path / "s.json", "--plots", tmp_path)
    code, out, said = run("compare", tmp_path / "t.swf", "--cluster", tmp_path / "c.toml", "--placement", "firstfit",
                          *policies)  # fmt: skip
    assert code == 0, said
    summary = json.loads((tmp_path / "s.json").read_text())
    for row in summary.values():
        assert row["killed_at_partition_limit"] == 2 and row["ran_past_request"] == 2, row
        assert row["utilization"] == (85000 * 4 + 100 * 4) / (32 * row["makespan"])
    assert "killed at partition limit" in out and "easy:fcfs 2" in out, out


def test_the_topology_table_leaves_out_their_work_too(tmp_path: Path) -> None:
    """The topology summary's useful utilization counted the killed jobs' work (left out of the main table's)."""
    tree = '[topology]\nlevels = ["switch"]\nfanouts = [2]\n'
    (tmp_path / "c.toml").write_text(CLUSTER + tree)
    (tmp_path / "t.swf").write_text(TRACE)
    code, _, said = run("simulate", tmp_path / "t.swf", "--cluster", tmp_path / "c.toml", "--placement", "topology",
                        "--summary-out", tmp_path / "s.json")  # fmt: skip
    assert code == 0, said
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["killed_at_partition_limit"] == 2, summary
    want = (85000 * 4 + 100 * 4) / (32 * summary["makespan"])  # jobs 4 and 5: half a node each
    assert summary["utilization"] == want
    assert summary["topology"]["useful_utilization"] == pytest.approx(want), summary["topology"]
    assert summary["topology"]["killed_by_stretch"] == 0

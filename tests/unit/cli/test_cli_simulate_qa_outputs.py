"""QA on `hal simulate`'s outputs: nan/inf stretch factors, strict summary JSON, utilization's one meaning,
the [data] table, --jobs-out's header and --topology-reserve's messages."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LOCAL = ROOT / "examples/local-cluster.toml"
SAMPLE = ROOT / "src/hal/data/kth-sp2-sample.swf"
THREE = """; MaxProcs: 8
1 0 -1 100 6 -1 -1 6 -1 -1 1 1 1 -1 -1 -1 -1 -1
2 0 -1 100 6 -1 -1 6 -1 -1 1 1 1 -1 -1 -1 -1 -1
3 10 -1 50 2 -1 -1 2 -1 -1 1 1 1 -1 -1 -1 -1 -1
"""
TREE = """name = "tree"
[[nodes]]
prefix = "n"
count = 25
cpus = 4
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
[topology]
levels = ["spine", "switch"]
fanouts = [2, 4]
"""


def hal(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    cmd = [sys.executable, "-m", "hal", *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env=env)


@pytest.fixture
def three(tmp_path: Path) -> Path:
    path = tmp_path / "three.swf"
    path.write_text(THREE)
    return path


@pytest.mark.parametrize("factor", ["nan", "inf"])
def test_non_finite_stretch_factors_are_refused_before_the_run(tmp_path: Path, three: Path, factor: str) -> None:
    done = hal("simulate", three, "--cluster", LOCAL, "--stretch-factors", f"heavy={factor},share=1",
               "--csv-out", "o.csv", "--summary-out", "o.json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--stretch-factors heavy={factor}: '{factor}' is not a finite number" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o.json").exists()


def test_the_summary_json_is_strict() -> None:
    from hal.cli.sim_json import finite

    assert finite({"a": math.nan, "b": [1.0, math.inf], "c": {"d": -math.inf, "e": 2}}) == {
        "a": None, "b": [1.0, None], "c": {"d": None, "e": 2},
    }  # fmt: skip


def test_write_json_never_writes_nan(tmp_path: Path) -> None:
    from hal.cli.sim_json import write_json

    write_json(tmp_path / "s.json", {"avg_bsld": math.nan, "jobs": 0})
    text = (tmp_path / "s.json").read_text()
    assert "NaN" not in text and json.loads(text) == {"avg_bsld": None, "jobs": 0}


def test_util_is_the_trace_work_in_every_mode_and_alloc_util_says_what_was_held(tmp_path: Path) -> None:
    """QA: with --whole-nodes, util counted the whole nodes allocated (0.633 -> 0.677 while work fell)."""
    (tmp_path / "tree.toml").write_text(TREE)
    figures = {}
    for mode in ((), ("--whole-nodes",)):
        name = "whole" if mode else "pool"
        done = hal("simulate", SAMPLE, "--cluster", "tree.toml", *mode, "--summary-out", f"{name}.json",
                   "--csv-out", f"{name}.csv", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        figures[name] = (json.loads((tmp_path / f"{name}.json").read_text()), done.stdout)
        rows = (tmp_path / f"{name}.csv").read_text().splitlines()[1:]
        work = sum(float(r.split(",")[5]) * int(r.split(",")[6]) for r in rows)  # trace run x trace procs
        data = figures[name][0]
        assert data["utilization"] == pytest.approx(work / (100 * data["makespan"]), rel=1e-6)
        assert 0 < data["topology"]["useful_utilization"] <= 1
    pool, whole = figures["pool"][0], figures["whole"][0]
    assert pool["allocated_utilization"] == pytest.approx(pool["utilization"])
    assert whole["allocated_utilization"] > whole["utilization"]  # whole nodes held for part-node jobs
    assert whole["topology"]["useful_utilization"] == pytest.approx(whole["allocated_utilization"], rel=1e-6)
    assert "alloc util" in figures["whole"][1] and "alloc util" not in figures["pool"][1]
    assert "busy util" in figures["pool"][1]


def test_a_data_table_is_checked_and_said_to_be_left_out(tmp_path: Path, three: Path) -> None:
    (tmp_path / "bad.toml").write_text(LOCAL.read_text() + '\n[data]\ndelay_policy = "bogus"\n')
    done = hal("simulate", three, "--cluster", "bad.toml", cwd=tmp_path)
    assert done.returncode == 2 and "delay_policy" in done.stderr and "bogus" in done.stderr, done.stderr
    (tmp_path / "good.toml").write_text(LOCAL.read_text() + '\n[data]\ndelay_policy = "gated"\n')
    done = hal("simulate", three, "--cluster", "good.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "good.toml's [data] table is not simulated" in done.stderr.replace("\n", " ")


def test_jobs_out_keeps_header_continuation_lines(tmp_path: Path) -> None:
    trace = tmp_path / "t.swf"
    trace.write_text("; Computer: box\n; Information: http://a.example/\n;              http://b.example/x\n"
                     "; MaxProcs: 8\n" + THREE.split("\n", 1)[1])  # fmt: skip
    done = hal("simulate", trace, "--jobs-out", "j.swf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    head = (tmp_path / "j.swf").read_text().splitlines()
    assert head[:3] == ["; Computer: box (simulated by HAL)", "; Information: http://a.example/",
                        ";              http://b.example/x"]  # fmt: skip
    assert not any("http: //" in line for line in head)
    assert sum(line.startswith("; MaxProcs:") for line in head) == 1


@pytest.mark.parametrize("spec", ["depth=0,wait=10", "wait=10,depth=-1", "wait=10,depth=1.5"])
def test_topology_reserve_depth_says_one_range(tmp_path: Path, three: Path, spec: str) -> None:
    (tmp_path / "tree.toml").write_text(TREE)
    done = hal("simulate", three, "--cluster", "tree.toml", "--whole-nodes", "--topology-reserve", spec,
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and "depth is a whole number >= 1" in done.stderr, done.stderr

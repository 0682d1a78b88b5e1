"""squeue -o codes %L (time left), %m (memory per node), %b (TRES per node) and %Z (working directory), and
their -O names: `squeue -o "%.10L %m %b %Z"` was refused as unknown codes."""

from __future__ import annotations

from typing import Any

from hal.cli import squeue_format

RUNNING = {
    "id": "7", "job_id": 7, "state": "RUNNING", "time_limit": 3600.0, "elapsed": 600.0, "nodelist": "n[001-002]",
    "req_nodes": 2, "req_mem_mb": 8192, "req_gpus": 4, "tres_per_node": "gres/gpu:2", "workdir": "/home/al/run",
}  # fmt: skip
PENDING = {
    "id": "8", "job_id": 8, "state": "PENDING", "time_limit": None, "elapsed": 0.0, "nodelist": None,
    "num_nodes": 1, "req_mem_mb": 1536, "req_gpus": 0, "workdir": "/scratch",
}  # fmt: skip


def line(fmt: str, job: dict[str, Any] | None) -> str:
    squeue_format.check(fmt)
    return squeue_format.render(fmt, job)


def test_time_left_memory_tres_and_workdir() -> None:
    fmt = "%.10L|%m|%b|%Z"
    assert line(fmt, None) == " TIME_LEFT|MIN_MEMORY|TRES_PER_NODE|WORK_DIR"
    assert line(fmt, RUNNING) == "     50:00|4G|gres/gpu:2|/home/al/run"  # per node: 8G over 2 nodes; --gres=gpu:2
    assert line(fmt, PENDING) == " UNLIMITED|1536M|N/A|/scratch"  # a larger unit only when exact, as squeue
    assert line("%L", {**PENDING, "time_limit": 90000.0}) == "1-01:00:00"  # pending: the whole limit
    assert line("%L %m", {**RUNNING, "elapsed": 4000.0, "req_mem_mb": 0}) == "0:00 0"  # past it (grace); none asked
    assert line("%m", {**PENDING, "req_mem_mb": 500}) == "500M"


def test_long_names_and_sort_keys() -> None:
    fmt = squeue_format.from_long("TimeLeft:10,MinMemory:6,tres-per-node,WorkDir")
    assert fmt == "%10L%6m%20b%20Z"
    jobs = [RUNNING, PENDING, {**PENDING, "job_id": 9, "time_limit": 60.0, "req_mem_mb": 100}]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "L")] == [9, 7, 8]  # UNLIMITED last
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-m")] == [7, 8, 9]


def test_time_min_has_an_o_name() -> None:
    """squeue -O TimeMin was refused as an unknown field."""
    fmt = squeue_format.from_long("JobID:4,TimeMin:.9")
    assert fmt == "%4i%.9{timemin}"
    assert line(fmt, None) == "JOBI TIME_MIN"
    assert line(fmt, {**PENDING, "time_min": 1800.0}) == "8       30:00"
    assert line(fmt, PENDING) == "8         N/A"  # no --time-min, as squeue prints it


def test_req_switch_and_wait4switch() -> None:
    """squeue -O ReqSwitch,Wait4Switch (QA: refused as unknown fields)."""
    fmt = squeue_format.from_long("ReqSwitch:.10,Wait4Switch:.12")
    asked = {"placement_request": {"switches": 2, "switches_wait": 90000.0, "switches_wait_effective": 90000.0}}
    assert line(fmt, None) == "REQ_SWITCH WAIT4SWITCH"
    assert line(fmt, {**PENDING, **asked}) == "         2  1-01:00:00"
    assert line(fmt, PENDING) == "         0    00:00:00"

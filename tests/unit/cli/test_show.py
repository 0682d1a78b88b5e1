"""hal show's scontrol-style record: the end a running job's limit sets, and whole lines when piped."""

from __future__ import annotations

from typing import Any

import pytest

from hal.cli import show as show_cli
from hal.cli.live import stamp

JOB: dict[str, Any] = {
    "id": 7, "name": "t", "user": "al", "account": "", "qos": "normal", "state": "RUNNING", "reason": None,
    "cause": "started", "exit_code": None, "signal": None, "restarts": 0, "requeue": False, "elapsed": 60.0,
    "time_limit": 3600.0, "submit_time": 1000.0, "start_time": 1100.0, "end_time": None, "partition": "batch",
    "nodelist": "n[001-002]", "req_tasks": 2, "req_cpus": 2, "req_nodes": 2, "alloc_cpus": 2, "workdir": "/w",
    "stdout_path": "/w/o", "stderr_path": "/w/o",
}  # fmt: skip


def test_a_running_jobs_end_time_is_its_start_plus_its_limit() -> None:
    """QA: EndTime=Unknown for a running job with a TimeLimit; Slurm shows start + limit."""
    said = "\n".join(show_cli._lines(JOB))
    assert f"StartTime={stamp(1100.0)} EndTime={stamp(4700.0)}" in said
    assert "EndTime=Unknown" in "\n".join(show_cli._lines({**JOB, "time_limit": None}))  # no limit: unknown
    ended = {**JOB, "state": "COMPLETED", "end_time": 1200.0}
    assert f"EndTime={stamp(1200.0)}" in "\n".join(show_cli._lines(ended))


def test_piped_output_keeps_each_line_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """QA: the long Topology Why= line broke after "span); " into an unindented line when piped."""
    pending = {"state": "PENDING", "reason": "Topology", "nodelist": "", "start_time": None}
    show_cli._print(show_cli._lines({**JOB, **pending, "predicted_start": 9000.0, "predicted_start_p90": 9900.0}))
    lines = capsys.readouterr().out.splitlines()
    why = [line for line in lines if "Why=" in line]
    assert len(why) == 1 and why[0].startswith("   Why=free nodes exist") and why[0].endswith("at 90%)"), lines
    assert all(line.startswith(("JobId=", "   ")) for line in lines if line), lines


def test_array_task_nice_and_oversubscribe_as_scontrol_prints_them() -> None:
    """QA: no ArrayJobId/ArrayTaskId, Nice= or OverSubscribe= (the --exclusive mode) in hal show."""
    task = {**JOB, "id": "5_2", "job_id": 7, "array_job_id": 5, "array_task_id": 2, "nice": 10, "exclusive": "user"}
    said = "\n".join(show_cli._lines(task))
    assert said.startswith("JobId=7 ArrayJobId=5 ArrayTaskId=2 JobName=t")
    assert "Nice=10 " in said and "OverSubscribe=USER" in said
    plain = "\n".join(show_cli._lines(JOB))
    assert plain.startswith("JobId=7 JobName=t") and "OverSubscribe=OK" in plain and "Nice=0 " in plain
    assert "OverSubscribe=NO" in "\n".join(show_cli._lines({**JOB, "exclusive": True}))


def test_a_topology_wait_says_what_holds_it_as_explain_does() -> None:
    """QA: a plain -N 4 job held by the block rule read "not inside the switches, blocks or level it may use (its
    --switches, --segment, --topology or --exclusive=topo ...)", options it never used; `hal explain` was precise."""
    pending = {**JOB, "state": "PENDING", "reason": "Topology", "nodelist": "", "start_time": None}
    held = "it needs 4 nodes within one block4 (...); the most it may use in one now is 3"
    said = "\n".join(show_cli._lines({**pending, "topology_why": held}))
    assert f"Why=free nodes exist, but {held}" in said and "--segment" not in said
    asked = {**pending, "placement_request": {"switches": 1}}  # no words from the server: its own request named
    assert "Why=free nodes exist, but not within its --switches=1" in "\n".join(show_cli._lines(asked))


def test_how_gpus_were_asked_is_shown_as_scontrol_does() -> None:
    """Left out until 2026-12-02: hal show had no TresPerNode (scontrol prints TresPerJob/Node/Task when set)."""
    asked = {**JOB, "tres_per_node": "gres/gpu:h100:2", "tres_per_task": "cpu=4", "tres_per_job": None}
    lines = show_cli._lines(asked)
    assert "   TresPerNode=gres/gpu:h100:2" in lines and "   TresPerTask=cpu=4" in lines
    assert not any("TresPerJob" in line for line in lines)
    assert not any("TresPer" in line for line in show_cli._lines(JOB))  # asked nothing that way: no line


def test_run_time_agrees_with_the_printed_start_and_end() -> None:
    """As sacct's Elapsed (cli/live.whole_elapsed): 13:23:23.6 to 13:23:27.2 printed RunTime=00:00:03."""
    ended = {**JOB, "state": "COMPLETED", "start_time": 1100.6, "end_time": 1104.2, "elapsed": 3.6}
    assert "RunTime=00:00:04 " in "\n".join(show_cli._lines(ended))

"""squeue's view of jobs between their processes' end and their outputs' arrival (Slurm's SO)."""

from __future__ import annotations

from rich.console import Console

from hal.cli.live import parse_states
from hal.cli.queue import queue_table


def test_stage_out_is_a_state_users_can_ask_for_and_shows_its_nodes() -> None:
    assert parse_states("so") == ("STAGE_OUT", {"STAGE_OUT"})
    assert parse_states("STAGE_OUT,R") == ("RUNNING,STAGE_OUT", {"RUNNING", "STAGE_OUT"})
    job = {"id": "7", "job_id": 7, "partition": "batch", "name": "writer", "user": "al", "state": "STAGE_OUT",
           "elapsed": 12.0, "nodelist": "vn001", "req_nodes": 1, "req_cpus": 1}  # fmt: skip
    console = Console(width=200, record=True)
    console.print(queue_table([job]))
    line = console.export_text().splitlines()[1].split()
    assert line[4] == "SO" and line[-1] == "vn001"  # its nodes, as squeue shows a CG or SO job's


def test_pending_array_tasks_are_one_line_per_reason() -> None:
    from hal.cli.queue import collapse_arrays

    jobs = [
        {"id": f"12_{t}", "job_id": 12 + t, "array_job_id": 12, "array_task_id": t,
         "state": "RUNNING" if t < 2 else "PENDING", "reason": "JobArrayTaskLimit" if t < 8 else "Priority"}
        for t in range(10)
    ] + [{"id": "30", "job_id": 30, "array_job_id": None, "state": "PENDING", "reason": "Priority"}]  # fmt: skip
    got = [(j["id"], j["state"], j["reason"]) for j in collapse_arrays(jobs)]
    assert got == [("12_0", "RUNNING", "JobArrayTaskLimit"), ("12_1", "RUNNING", "JobArrayTaskLimit"),
                   ("12_[2-7]", "PENDING", "JobArrayTaskLimit"), ("12_[8-9]", "PENDING", "Priority"),
                   ("30", "PENDING", "Priority")]  # fmt: skip
    assert jobs[2]["id"] == "12_2"  # the records themselves are left alone


def test_squeue_array_codes_and_state_all() -> None:
    from hal.cli import squeue_format
    from hal.cli.live import parse_states

    task = {"id": "12_[3-5]", "job_id": 15, "array_job_id": 12}
    assert (
        squeue_format.render("%F %K", task) == "12 [3-5]"
        and squeue_format.render("%K", {"id": "7", "job_id": 7}) == "N/A"
    )
    assert parse_states("all") == (None, None)

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

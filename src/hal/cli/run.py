"""`hal run` (srun-like): inside a job script, start N tasks across the job's nodes and wait for them all."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hal.cli.common import fail
from hal.executors.tasks import RunError, run_tasks

# Options stop at the command: in `hal run -n 4 python -c "..."`, `-c` belongs to python, as with srun.
CONTEXT: dict[str, Any] = {"allow_interspersed_args": False, "ignore_unknown_options": True}


def run(
    command: Annotated[list[str], typer.Argument(help="the program to run in each task, and its arguments")],
    ntasks: Annotated[
        int | None, typer.Option("--ntasks", "-n", help="number of tasks (default: the job's --ntasks)")
    ] = None,
    distribution: Annotated[
        str, typer.Option("--distribution", "-m", help="block: fill each node in turn; cyclic: round robin")
    ] = "block",
) -> None:
    """Start tasks across the job's nodes, each pinned to its node's CPUs, with SLURM_PROCID/LOCALID/NODEID set;
    exits with the highest task exit code (0 when all succeed)."""
    try:
        code = run_tasks(command, ntasks, distribution)
    except RunError as e:
        raise fail(str(e)) from None
    raise typer.Exit(code)

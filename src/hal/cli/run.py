"""`hal run` (srun-like): inside a job script, start N tasks across the job's nodes and wait for them all."""

from __future__ import annotations

from typing import Annotated, Any

import typer

# Options stop at the command: in `hal run -n 4 python -c "..."`, `-c` belongs to python, as with srun. Options
# typer does not list (--gpus-per-task, --mem, --mpi, ...) stay in `command`; srun_options reads them all.
CONTEXT: dict[str, Any] = {"allow_interspersed_args": False, "ignore_unknown_options": True}
Opt = typer.Option


def run(
    command: Annotated[list[str], typer.Argument(help="the program to run in each task, and its arguments")],
    ntasks: Annotated[int | None, Opt("--ntasks", "-n", help="number of tasks (default: the job's --ntasks)")] = None,
    distribution: Annotated[
        str, Opt("--distribution", "-m", help="block: fill each node in turn; cyclic: round robin")
    ] = "block",
    nodes: Annotated[int | None, Opt("--nodes", "-N", help="run on the job's first N nodes")] = None,
    ntasks_per_node: Annotated[int | None, Opt("--ntasks-per-node", help="at most this many tasks a node")] = None,
    cpus_per_task: Annotated[int | None, Opt("--cpus-per-task", "-c", help="CPUs each task is counted for")] = None,
    label: Annotated[bool, Opt("--label", "-l", help="prefix each output line with its task's rank")] = False,
    overcommit: Annotated[bool, Opt("--overcommit", "-O", help="allow more tasks x CPUs than allocated")] = False,
) -> None:
    """Start tasks across the job's nodes, each pinned to its node's CPUs, with SLURM_PROCID/LOCALID/NODEID set;
    exits with the highest task exit code (0 when all succeed). Inside a job, `srun` runs this too. srun's
    --gpus-per-task, --gres=gpu:N, --gpus-per-node and -K/--kill-on-bad-exit are acted on; its memory, MPI and
    binding options are accepted with a note."""
    from hal.executors.srun_options import main

    given = {"-n": ntasks, "-N": nodes, "--ntasks-per-node": ntasks_per_node, "-c": cpus_per_task}
    argv = [w for k, v in given.items() if v is not None for w in (k, str(v))]
    argv += ["-m", distribution] + ["-l"] * label + ["-O"] * overcommit
    raise typer.Exit(main([*argv, *command]))

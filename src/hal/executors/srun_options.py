"""srun's command line inside a job (`srun`, `hal run`): which step options HAL acts on, and a note for those it takes
without acting on them (memory, MPI plugin, binding), so a Slurm script's srun line runs rather than being refused."""

from __future__ import annotations

import argparse
import sys

from hal.executors.tasks import RunError, Step, run_tasks

# step options taken and not acted on: the job's allocation already sets them (memory, GPUs of the step as a
# whole), or HAL has no such mechanism (PMI, GPU binding policies, frequencies)
NOTED_VALUED = ("--gpus", "-G", "--cpus-per-gpu", "--gpu-bind", "--gpu-freq", "--mem", "--mem-per-cpu", "--mem-per-gpu",
                "--ntasks-per-gpu", "--hint", "--mem-bind", "--tres-per-task", "--gres-flags", "--propagate", "-t",
                "--time", "--network", "--cpu-freq")  # fmt: skip
QUIET_VALUED = ("--cpu-bind", "-J", "--job-name", "--export")  # hints and names; the job's env is exported
QUIET_FLAGS = ("-u", "--unbuffered", "--exact")  # harmless here


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hal run", description="start tasks across the job's nodes")
    p.add_argument("-n", "--ntasks", type=int, default=None)
    p.add_argument("-m", "--distribution", default="block", help="block or cyclic (then :... for sockets, noted)")
    p.add_argument("-N", "--nodes", type=int, default=None)
    p.add_argument("--ntasks-per-node", type=int, default=None)
    p.add_argument("-c", "--cpus-per-task", type=int, default=None)
    p.add_argument("-l", "--label", action="store_true")
    p.add_argument("-O", "--overcommit", action="store_true")
    p.add_argument("--overlap", action="store_true", help="share GPUs other running steps hold (no waiting)")
    p.add_argument("--gpus-per-task", default=None, help="[TYPE:]N of the node's GPUs for each task")
    p.add_argument("--gres", default=None, help="gpu[:TYPE][:N]: the first N of each node's GPUs for the step")
    p.add_argument("--gpus-per-node", default=None, help="[TYPE:]N: the first N of each node's GPUs for the step")
    p.add_argument("-K", "--kill-on-bad-exit", nargs="?", const="1", default="0", help="1: end the step on a failure")
    p.add_argument("--mpi", default="none", help="HAL offers no PMI: run mpirun yourself")
    for flag in QUIET_FLAGS:
        p.add_argument(flag, action="store_true", dest=f"quiet_{flag.strip('-')}")
    for option in QUIET_VALUED:
        p.add_argument(option, dest=f"quiet_{option.strip('-')}")
    for option in NOTED_VALUED:
        p.add_argument(option, dest=f"noted_{option.strip('-')}")
    p.add_argument("command", nargs=argparse.REMAINDER)
    return p


def _count(text: str | None, what: str) -> int | None:
    """[TYPE:]N (or gpu[:TYPE][:N] for --gres) as N; the type is the job's, chosen at submission."""
    if text is None:
        return None
    parts = text.split(":")
    if what == "--gres":
        if parts[0] != "gpu" or "," in text:
            raise RunError(f"--gres={text}: a step takes gpu[:TYPE][:N] (the job's GPUs) only")
        parts = parts[1:] or ["1"]
        if not parts[-1].isdigit():  # gpu:a100: one of them
            parts.append("1")
    if not parts[-1].isdigit() or int(parts[-1]) < 1:
        raise RunError(f"{what}={text}: give a whole count of GPUs (at least 1)")
    return int(parts[-1])


def _type(text: str | None, what: str) -> str:
    """The GPU type of gpu:TYPE[:N] (--gres) or TYPE:N (--gpus, --gpus-per-*); "" when none is named."""
    if text is None:
        return ""
    parts = text.split(":")[1:] if what == "--gres" else text.split(":")[:-1]
    return parts[0] if parts and not parts[0].isdigit() else ""


def step_of(args: argparse.Namespace) -> tuple[Step, str, list[str]]:
    """The step to run, its task distribution, and the options named in a note (accepted, not acted on)."""
    names = [k.removeprefix("noted_") for k, v in vars(args).items() if k.startswith("noted_") and v]
    noted = [f"-{n}" if len(n) == 1 else f"--{n}" for n in names]  # -G as typed (it said --G)
    if args.mpi not in ("none", ""):  # refused, as srun refuses an MPI plugin it lacks: tasks started without PMI
        raise RunError(  # would each be a rank 0 of 1, a silently wrong run of an MPI program
            f"--mpi={args.mpi}: HAL offers no PMI (srun --mpi=none, the default, starts the tasks; start MPI ranks "
            "with mpirun inside the job)"
        )
    first, colon, rest = args.distribution.partition(":")
    first = first.split(",")[0]
    if colon and rest:
        noted.append(f"--distribution's :{rest} (HAL places tasks on nodes, not sockets)")
    if args.kill_on_bad_exit not in ("0", "1"):
        raise RunError(f"--kill-on-bad-exit={args.kill_on_bad_exit}: use 0 or 1")
    node_gpus = [c for c in (_count(args.gres, "--gres"), _count(args.gpus_per_node, "--gpus-per-node")) if c]
    if args.gres and args.gpus_per_node:
        raise RunError("--gres and --gpus-per-node: ask for the step's GPUs with one of them")
    typed = {("--gres", args.gres), ("--gpus-per-node", args.gpus_per_node), ("--gpus-per-task", args.gpus_per_task)}
    typed |= {("--gpus", args.noted_gpus), ("-G", args.noted_G)}  # its count is noted, its type checked as theirs
    kinds = sorted({k for k in (_type(text, what) for what, text in typed) if k})
    if len(kinds) > 1:
        raise RunError(f"GPU types {' and '.join(kinds)}: a step's GPUs are of one type")
    step = Step(
        args.nodes,
        args.ntasks_per_node,
        args.cpus_per_task,
        args.label,
        args.overcommit,
        gpus_per_task=_count(args.gpus_per_task, "--gpus-per-task"),
        gpus_per_node=node_gpus[0] if node_gpus else None,
        kill_on_bad_exit=args.kill_on_bad_exit == "1",
        gpu_type=kinds[0] if kinds else "",
        overlap=args.overlap,
    )
    return step, first, noted


def main(argv: list[str] | None = None) -> int:
    """`srun`/`hal run [OPTIONS] CMD ...`: start the step's tasks and return its exit code (2: refused)."""
    args = parser().parse_args(argv)
    try:
        step, distribution, noted = step_of(args)
        if noted:
            print(f"hal run: note: accepted but not acted on by HAL: {', '.join(noted)}", file=sys.stderr)
        return run_tasks(args.command, args.ntasks, distribution, step=step)
    except RunError as e:
        print(f"hal run: error: {e}", file=sys.stderr)
        return 2

"""`hal run` inside a job (srun-like): which node and CPUs each task gets, its SLURM_*/HAL_* ids, and the exit code.

The job's allocation comes from HAL_JOB_SHARES, set by the executor. All virtual nodes live on this machine, so a
task "on node k" is a process pinned to node k's CPUs (and, under rlimits, limited to node k's memory).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from hal.executors import gpu_steps, hostlist, proctree
from hal.executors.api import NodeShare
from hal.executors.jobenv import (
    TOPOLOGY_VARIABLES,
    drop_gpu_variables,
    gpu_variables,
    parse_shares,
    tasks_per_node,
    topology_variables,
)
from hal.executors.limits import with_data_limit


@dataclass(frozen=True, slots=True)
class Task:
    procid: int  # rank across the step: SLURM_PROCID
    node: int  # index of the node in the job: SLURM_NODEID
    localid: int  # rank on its node: SLURM_LOCALID


class RunError(Exception):
    """hal run cannot start (not inside a job, bad arguments); the message is for the user."""


def place(shares: Sequence[NodeShare], ntasks: int, cpus_per_task: int, distribution: str) -> list[Task]:
    """block: consecutive ranks share a node (each node filled to its CPUs); cyclic: ranks dealt round robin."""
    if distribution not in ("block", "cyclic"):
        raise RunError(f"unknown distribution {distribution!r}: use block or cyclic")
    if ntasks < 1:
        raise RunError(f"--ntasks must be at least 1, got {ntasks}")
    counts = tasks_per_node(shares, ntasks, cpus_per_task, cyclic=distribution == "cyclic")
    used = [i for i, c in enumerate(counts) if c > 0]
    if distribution == "cyclic":
        order = [used[r % len(used)] for r in range(ntasks)]
    else:
        order = [i for i in used for _ in range(counts[i])]
    seen: dict[int, int] = {}
    tasks = []
    for procid, node in enumerate(order):
        tasks.append(Task(procid, node, seen.get(node, 0)))
        seen[node] = seen.get(node, 0) + 1
    return tasks


def oversubscription(shares: Sequence[NodeShare], tasks: Sequence[Task], cpus_per_task: int) -> list[str]:
    """Nodes that get more tasks x CPUs than the job holds there (-O/--overcommit): allowed, but said out loud.
    Virtual nodes sharing host CPUs is the machine's design, not the step's doing: not noted on every srun."""
    notes = []
    for i, share in enumerate(shares):
        n = sum(1 for t in tasks if t.node == i)
        if n * cpus_per_task > share.allocated > 0:
            notes.append(f"{n} task(s) x {cpus_per_task} CPU(s) on node {share.node}, which holds {share.allocated}")
    return notes


def task_environment(
    base: Mapping[str, str], shares: Sequence[NodeShare], tasks: Sequence[Task], task: Task, step: Step | None = None
) -> dict[str, str]:
    used = sorted({t.node for t in tasks})
    names = hostlist.compress_ordered([shares[i].node for i in used])
    per_node = hostlist.counts([sum(1 for t in tasks if t.node == i) for i in used])
    share = shares[task.node]
    ids = {
        "PROCID": str(task.procid),
        "LOCALID": str(task.localid),
        "NODEID": str(task.node),
        "NODENAME": share.node,
        "STEP_NUM_TASKS": str(len(tasks)),
        "STEP_NUM_NODES": str(len(used)),
        "STEP_NODELIST": names,
        "STEP_TASKS_PER_NODE": per_node,
        "NTASKS": str(len(tasks)),
        "CPUS_ON_NODE": str(share.allocated),
    }
    env = dict(base)
    env.pop(gpu_steps.SPOOL_VARIABLE, None)  # the srun shim's, not the task's
    for key, value in ids.items():
        env[f"HAL_{key}"] = value
        env["SLURMD_NODENAME" if key == "NODENAME" else f"SLURM_{key}"] = value
    env["SLURM_NPROCS"] = ids["NTASKS"]
    for name in TOPOLOGY_VARIABLES:  # the batch shell's node's, when the task's own is not known
        env.pop(name, None)
    env.update(topology_variables(base, share.node))  # the task's own node's switches or block
    if "HAL_DATA_NODES" in base:  # a task's datasets are in its own node's cache (they pointed at the first's)
        env["HAL_DATA"] = json.loads(base["HAL_DATA_NODES"]).get(share.node, base.get("HAL_DATA", ""))
    if share.mem_mb > 0:
        env["SLURM_MEM_PER_NODE"] = env["HAL_MEM_PER_NODE"] = str(share.mem_mb)
    mine = _task_gpus(base, share.gpus, [t for t in tasks if t.node == task.node], task, step)
    drop_gpu_variables(env, share)  # the batch shell's are its first node's GPUs: a task without GPUs sees none
    env.update(gpu_variables(mine))
    if mine:
        env["SLURM_STEP_GPUS"] = ",".join(map(str, mine))
    if step is not None and step.gpus_per_task:  # srun sets it from its --gpus-per-task, as sbatch does for a job
        env["SLURM_GPUS_PER_TASK"] = str(step.gpus_per_task)
    return env


def _task_gpus(
    base: Mapping[str, str], gpus: Sequence[int], on_node: Sequence[Task], task: Task, step: Step | None = None
) -> Sequence[int]:
    """The GPUs a task sees: with the step's --gpus-per-task its own slice of the node's GPUs; with the step's
    --gres=gpu:N or --gpus-per-node=N the node's first N, shared by its tasks (either replaces the job's binding);
    else with the job's SLURM_GPUS_PER_TASK (or --ntasks-per-gpu=1) its own slice, as Slurm binds them; otherwise
    every GPU the job holds on the node."""
    if step is not None and step.gpus_per_node is not None:
        gpus = gpus[: step.gpus_per_node]
    if step is not None and step.gpus_per_task is not None:
        return gpus[task.localid * step.gpus_per_task : (task.localid + 1) * step.gpus_per_task]
    if step is not None and step.gpus_per_node is not None:
        return gpus
    per = base.get("SLURM_GPUS_PER_TASK", "").rpartition(":")[2]  # a100:1, as typed, binds like 1
    per = per or ("1" if base.get("SLURM_NTASKS_PER_GPU") == "1" else "")
    if not per.isdigit() or int(per) < 1 or len(gpus) < int(per) * len(on_node):
        return gpus
    return gpus[task.localid * int(per) : (task.localid + 1) * int(per)]


def gpu_problem(shares: Sequence[NodeShare], tasks: Sequence[Task], step: Step) -> str | None:
    """A step asking for more of a node's GPUs than the job holds there, or for GPUs of a type it does not hold
    there: refused, as srun refuses it (the step ran on the job's other GPUs, silently)."""
    for i in sorted({t.node for t in tasks}) if step.gpu_type else ():
        share = shares[i]
        if share.gpu_type is None or (share.gpus and share.gpu_type == step.gpu_type):
            continue  # None: a job launched before the type was recorded, taken on trust
        held = f"{len(share.gpus)} {share.gpu_type or 'untyped'} GPU(s)" if share.gpus else "no GPUs"
        return (
            f"GPU type {step.gpu_type!r}: requested GPU type not available in the allocation (the job holds {held} "
            f"on node {share.node}; ask for its type, or for gpu:N without one)"
        )
    for i, share in enumerate(shares):
        n = sum(1 for t in tasks if t.node == i)
        want = max((step.gpus_per_task or 0) * n, step.gpus_per_node or 0)
        if n and want > len(share.gpus):
            asked = f"--gpus-per-task={step.gpus_per_task} x {n} task(s)" if step.gpus_per_task else "the step"
            return f"{asked} needs {want} GPU(s) on node {share.node}, which holds {len(share.gpus)} for this job"
    return None


@dataclass(frozen=True, slots=True)
class Step:
    """srun's options for one step, beyond the task count: how many of the job's nodes, tasks per node, CPUs
    per task, and whether output lines carry their task's rank (``-l``)."""

    nodes: int | None = None
    per_node: int | None = None
    cpus_per_task: int | None = None
    label: bool = False
    overcommit: bool = False  # -O: more tasks x CPUs than the allocation holds (refused otherwise, as srun does)
    gpus_per_task: int | None = None  # --gpus-per-task=N: each task its own N of its node's GPUs
    gpus_per_node: int | None = None  # --gres=gpu:N / --gpus-per-node=N: each node's first N, for its tasks
    kill_on_bad_exit: bool = False  # -K/--kill-on-bad-exit=1: a failed task ends the step's others
    gpu_type: str = ""  # --gres=gpu:TYPE:N, --gpus-per-*=TYPE:N: the GPUs' type, which the job's must be
    overlap: bool = False  # --overlap: its GPUs may be ones other steps hold (it neither holds nor waits for them)


def run_tasks(
    command: Sequence[str],
    ntasks: int | None,
    distribution: str,
    env: Mapping[str, str] | None = None,
    step: Step = Step(),
) -> int:
    """Starts the tasks, waits for all, and returns 0, or the highest exit code (128+N for a signal N)."""
    env = os.environ if env is None else env
    if not command:
        raise RunError("no command given: hal run [--ntasks N] CMD [ARGS...]")
    if "HAL_JOB_SHARES" not in env:
        raise RunError("hal run starts tasks inside a HAL job (HAL_JOB_SHARES is not set); submit a batch script")
    shares = parse_shares(env["HAL_JOB_SHARES"])
    if step.nodes is not None:
        if not 1 <= step.nodes <= len(shares):
            raise RunError(f"--nodes={step.nodes}: the job has {len(shares)} node(s)")
        shares = shares[: step.nodes]  # the step runs on the job's first N nodes, as srun -N picks them
    cpus_per_task = step.cpus_per_task or int(env.get("HAL_CPUS_PER_TASK", "1") or 1)
    per_node = step.per_node
    if ntasks is None and per_node is None and step.nodes is not None and env.get("SLURM_NTASKS_PER_NODE"):
        per_node = int(env["SLURM_NTASKS_PER_NODE"])  # srun -N1 in a --ntasks-per-node job: that many on each
    if ntasks is None and per_node is not None:
        ntasks = per_node * len(shares)
    ntasks = ntasks if ntasks is not None else int(env.get("HAL_NTASKS", "1") or 1)
    if ntasks > MAX_TASKS:  # -O -n 10^20 ran until killed
        raise RunError(f"--ntasks={ntasks}: at most {MAX_TASKS:,} tasks in a step")
    held = sum(s.allocated for s in shares)
    if ntasks * cpus_per_task > held and not step.overcommit:
        raise RunError(
            f"{ntasks} task(s) x {cpus_per_task} CPU(s) is more than the {held} CPU(s) the step's nodes hold "
            "(srun: 'More processors requested than permitted'; -O/--overcommit allows it)"
        )
    if per_node is not None:
        tasks = _even(shares, ntasks, per_node)
    else:
        tasks = place(shares, ntasks, cpus_per_task, distribution)
    problem = gpu_problem(shares, tasks, step)
    if problem:
        raise RunError(problem)
    for note in oversubscription(shares, tasks, cpus_per_task):
        print(f"hal run: note: {note}; tasks share CPUs", file=sys.stderr)
    want = step_gpu_counts(shares, tasks, step)
    if not want:
        return _run(command, env, shares, tasks, cpus_per_task, step)
    wanted = {shares[i].node: (shares[i].gpus, n) for i, n in want.items()}
    try:
        record = gpu_steps.record_path(env)
        got = gpu_steps.hold(record, wanted, env.get("SLURM_JOB_ID") or env.get("HAL_JOB_ID", "0"))
    except OSError as e:
        raise RunError(f"cannot record the GPUs the step holds ({e}): srun --overlap runs it on shared GPUs") from e
    shares = [replace(s, gpus=tuple(got[s.node])) if s.node in got else s for s in shares]
    try:
        return _run(command, env, shares, tasks, cpus_per_task, step)
    finally:
        gpu_steps.release(record)


def step_gpu_counts(shares: Sequence[NodeShare], tasks: Sequence[Task], step: Step) -> dict[int, int]:
    """How many GPUs a step holds on each node (by index) while it runs, so concurrent steps get others: what its
    --gpus-per-task x its tasks there, or --gres=gpu:N / --gpus-per-node=N, asks of the job's GPUs there. None
    with --overlap, nor for a step without GPU options (it sees the job's GPUs, as the batch script does)."""
    if step.overlap or not (step.gpus_per_task or step.gpus_per_node):
        return {}
    counts: dict[int, int] = {}
    for i, share in enumerate(shares):
        n = sum(1 for t in tasks if t.node == i)
        want = max((step.gpus_per_task or 0) * n, step.gpus_per_node or 0) if n else 0
        if want and share.gpus:
            counts[i] = want
    return counts


def _run(
    command: Sequence[str],
    env: Mapping[str, str],
    shares: Sequence[NodeShare],
    tasks: Sequence[Task],
    cpus_per_task: int,
    step: Step,
) -> int:
    """Starts the placed tasks, waits for all, and returns the step's exit code."""
    rlimit = env.get("HAL_MEMORY_MECHANISM") == "rlimit"
    procs: list[subprocess.Popen[bytes]] = []
    mine = os.sched_getaffinity(0)
    _forward_signals(procs)  # before the first task starts: a USR1 once it is up must not kill srun itself
    try:
        for task in tasks:
            task_env = {**task_environment(env, shares, tasks, task, step), "SLURM_CPUS_PER_TASK": str(cpus_per_task)}
            procs.append(_start_task(command, shares[task.node], task_env, rlimit, step.label))
    except RunError:
        _stop(procs)
        raise
    finally:
        os.sched_setaffinity(0, mine)
    copiers = [_labelled(t.procid, p) for t, p in zip(tasks, procs, strict=True)] if step.label else []
    ended = _end_on_failure(procs) if step.kill_on_bad_exit else []
    worst = 0
    for task, proc in zip(tasks, procs, strict=True):
        code = proc.wait()
        if proc in ended:  # the step's code is the failed task's, not the signal that ended the others
            print(f"hal run: task {task.procid} ended by --kill-on-bad-exit", file=sys.stderr)
        elif code != 0:
            what = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
            print(f"hal run: task {task.procid} on node {shares[task.node].node} {what}", file=sys.stderr)
            worst = max(worst, 128 - code if code < 0 else code)
    for copier in copiers:
        copier.join()
    return worst


MAX_TASKS = 100_000


def _end_on_failure(procs: list[subprocess.Popen[bytes]]) -> list[subprocess.Popen[bytes]]:
    """srun -K: once one task fails, SIGTERM the others (then SIGKILL after 5 s, as Slurm's KillWait); the tasks
    it ended."""
    while None in (codes := [p.poll() for p in procs]):  # every task polled: any() stopped at the first alive
        if any(code not in (None, 0) for code in codes):
            live = [p for p in procs if p.poll() is None]
            for proc in live:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
            for proc in live:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
            return live
        time.sleep(0.05)
    return []


def _forward_signals(procs: list[subprocess.Popen[bytes]]) -> None:
    """`kill -USR1 $SRUN_PID` (a script passing a checkpoint warning on) reaches the tasks, and srun lives on."""

    def forward(signum: int, frame: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signum)

    for sig in proctree.FORWARDED:
        signal.signal(sig, forward)


def _even(shares: Sequence[NodeShare], ntasks: int, per_node: int) -> list[Task]:
    """--ntasks-per-node: at most that many ranks on each node, in node order."""
    if ntasks > per_node * len(shares):
        raise RunError(f"{ntasks} tasks at --ntasks-per-node={per_node} need {-(-ntasks // per_node)} nodes")
    return [Task(r, r // per_node, r % per_node) for r in range(ntasks)]


def _labelled(procid: int, proc: subprocess.Popen[bytes]) -> threading.Thread:
    """srun -l: each line of the task's output (stdout and stderr, merged) prefixed with its rank."""

    def copy() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.buffer.write(f"{procid}: ".encode() + line)
            sys.stdout.buffer.flush()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


def _start_task(
    command: Sequence[str], share: NodeShare, env: dict[str, str], rlimit: bool, label: bool = False
) -> subprocess.Popen[bytes]:
    """Pins ourselves to the node's CPUs for the moment of the fork (the task inherits the mask: no preexec_fn,
    whose forking costs ~12 ms a task) and, under rlimits, limits the task to its node's memory."""
    argv = list(command)
    if rlimit and share.mem_mb > 0:
        argv = with_data_limit(argv, share.mem_mb << 20)
    try:
        if share.cpus:
            os.sched_setaffinity(0, share.cpus)
        if label:
            return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return subprocess.Popen(argv, env=env)
    except OSError as e:
        raise RunError(f"cannot start {command[0]!r} on node {share.node} (CPUs {list(share.cpus)}): {e}") from e


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    """`python -m hal.executors.tasks [OPTIONS] CMD ...` (the srun shim): `hal run` without loading the whole CLI
    (about a second less per call on a busy machine); srun_options reads the options."""
    from hal.executors.srun_options import main as srun_main

    return srun_main(argv)


if __name__ == "__main__":
    sys.exit(main())

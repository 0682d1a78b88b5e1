"""Conversions between a stored job row, the engine's JobSpec and the executor's LaunchSpec."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hal.controller.contracts import SubmitError, Submitted
from hal.controller.directives import JobRequest, StoredDep
from hal.controller.option_values import early_signal
from hal.controller.same_request import differing, refusal
from hal.engine.nodes import NodeAlloc
from hal.engine.partition_choice import holding
from hal.executors.api import LaunchSpec, NodeShare
from hal.executors.jobenv import input_file, log_files
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import Resources

Row = dict[str, Any]


@dataclass(slots=True)
class Live:
    """A job that is not over yet, as the controller keeps it in memory."""

    job_id: int
    user: str
    partition: str
    state: str
    spec: JobSpec
    request: JobRequest
    array_job_id: int | None
    array_task_id: int | None
    requeue: bool
    restarts: int = 0


def spec_of(
    job_id: int, req: JobRequest, user: str, submit_time: float, deps: tuple[Dependency, ...], batch: int | None = None
) -> JobSpec:
    return JobSpec(
        job_id=job_id,
        submit_time=submit_time,
        tasks=req.tasks,
        per_task=Resources(cpus=req.cpus_per_task, mem_mb=req.mem_per_task_mb, gpus=req.gpus_per_task),
        nodes=req.nodes,
        exclusive=req.exclusive,
        time_limit=req.time_limit,
        name=req.name,
        user=user,
        account=req.account,
        partition=req.partition,
        qos=req.qos,
        nice=req.nice,
        dependencies=deps,
        begin_time=req.begin,
        inputs=tuple(req.inputs),
        outputs=tuple(req.outputs),
        switches=req.switches,
        switches_wait=req.switches_wait,
        segment=req.segment,
        topology_required=req.topology_required,
        topology_preferred=req.topology_preferred,
        held=req.hold,
        features=req.node_features(),  # a GPU type too (gpu:h100), whatever -C says
        node_names=tuple(req.node_names),
        exclude_nodes=tuple(req.exclude_nodes),
        node_mem_mb=req.mem_per_node_mb,
        node_gpus=req.gpus_per_node,
        time_min=req.time_min if req.time_min and (req.time_limit is None or req.time_min <= req.time_limit) else None,
        batch=batch,
    )


def waiting_since(spec: JobSpec, stored: Row) -> JobSpec:
    """A pending job's spec rebuilt from its stored request (``hal update``, a restart), waiting from when it could
    first start: its last release or the moment its dependencies were met, when later than its --begin. The engine
    counts the --switches wait and data delays from there (Slurm from when the job was first eligible); rebuilt,
    they counted from submission again, and a job held longer than its wait was spread at once (QA). The moment
    is passed as a begin time already past: it holds nothing, it only moves where those waits start."""
    since = max(float(stored.get("_released") or 0.0), float(stored.get("_eligible") or 0.0))
    if since <= max(spec.submit_time, spec.begin_time or 0.0):
        return spec
    return replace(spec, begin_time=since)


def reaches(live: dict[int, Live], start: list[int], target: int) -> bool:
    """Whether ``target`` is among the jobs ``start`` wait for, directly or through theirs (unended jobs)."""
    seen: set[int] = set()
    todo = list(start)
    while todo:
        j = todo.pop()
        if j == target:
            return True
        if j not in seen and (other := live.get(j)) is not None:
            seen.add(j)
            todo.extend(d.job_id for d in other.spec.dependencies)
    return False


def deps_of(row: Row) -> tuple[Dependency, ...]:
    return dependencies(json.loads(row["request"]).get("_deps", []), row.get("array_task_id"))


def dependencies(stored: Iterable[Sequence[Any]], task: int | None = None) -> tuple[Dependency, ...]:
    """Stored (kind, job id[, array id[, delay[, any of[, task]]]]) entries (records from before array ids, delays,
    '?' lists and aftercorr were kept have fewer), for array task ``task``: aftercorr:ARRAY keeps only ARRAY's
    task of the same index; a task without one has none, so it is met (Slurm). A job that is no array task
    waits for every task, as afterok:ARRAY."""
    return tuple(_dependency(*d) for d in stored if len(d) < 6 or d[5] is None or task is None or d[5] == task)


def ended_starts(store: Any, sched: Any, job_ids: list[int]) -> None:
    """When jobs the engine is told only the outcome of (they ended before a restart) had started, or were
    cancelled if they never did: after:JOB+MIN counts from there (it let a dependant go at once)."""
    for r in store.query(job_ids=job_ids) if job_ids else []:
        at = r["start_time"] if r.get("start_time") is not None else r.get("end_time")
        if r["id"] in job_ids and at is not None:
            sched.started.setdefault(r["id"], float(at))


def _dependency(
    kind: str, job: int, array: int | None = None, delay: float = 0.0, any_of: bool = False, _task: int | None = None
) -> Dependency:
    return Dependency(DependencyKind(kind), int(job), array, float(delay), bool(any_of))


def request_json(req: JobRequest, deps: list[StoredDep], shared: int | None = None) -> str:
    """The stored form of a request, made once per submission (each task row keeps its own index). ``shared``:
    an array task after the first, whose script and environment are that first task's row's (they were stored
    with every task: a 100 KB environment on 1,000 tasks took 100 MB)."""
    data = req.to_dict()
    data["_deps"] = deps
    data["array"] = None
    if shared is not None:
        data.update(script="", env={}, _shared=shared)
    return json.dumps(data, separators=(",", ":"))


def new_row(job_id: int, req: JobRequest, user: str, now: float, array: tuple[int, int] | None, stored: str) -> Row:
    return {
        "id": job_id,
        "array_job_id": array[0] if array else None,
        "array_task_id": array[1] if array else None,
        "name": req.name,
        "user": user,
        "account": req.account,
        "partition": req.partition,
        "qos": req.qos,
        "state": "PENDING",
        "cause": "submitted",
        "submit_time": now,
        "time_limit": req.time_limit,
        "req_nodes": req.nodes,
        "req_tasks": req.tasks,
        "req_cpus": req.tasks * req.cpus_per_task,
        "req_mem_mb": req.requested()[0],
        "req_gpus": req.requested()[1],
        "alloc_cpus": 0,
        "nodelist": "",
        "alloc": "",
        "cpu_seconds": 0.0,
        "max_rss_mb": 0.0,
        "requeue": req.requeue,
        "restarts": 0,
        "workdir": req.workdir,
        "stdout_path": "",
        "stderr_path": "",
        "request": stored,
    }


def request_of_row(row: Row, first: Callable[[int], Row | None] | None = None) -> JobRequest:
    """The request a row stores; ``first`` reads an array's first task row, whose script and environment the
    other tasks share (without it they stay empty, for readers that need neither)."""
    data = json.loads(row["request"])
    data.pop("_deps", None)
    data.pop("_released", None)
    data.pop("_split", None)  # an array task changed on its own (controller/array_split.py)
    data.pop("_eligible", None)  # when its dependencies were met (controller/invalid_deps.py)
    data.pop("_asked", None)  # the limit its user asked for before a raise (controller/asked_limit.py)
    shared = data.pop("_shared", None)
    if shared is not None and first is not None:
        origin = first(int(shared))
        if origin is not None:
            data["script"], env = _shared_parts(origin["request"])
            data["env"] = dict(env)
    return JobRequest.from_dict(data)


@functools.lru_cache(maxsize=64)
def _shared_parts(stored: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An array's first task's script and environment, read once for all its tasks (a restart with a 10,000-task
    array parsed that request 10,000 times; QA: 35 s before the server answered)."""
    full = json.loads(stored)
    return full.get("script", ""), tuple((full.get("env") or {}).items())


def alloc_json(alloc: NodeAlloc, held: list[tuple[int, list[int], list[int]]]) -> str:
    return json.dumps({"amounts": alloc.amounts.tolist(), "held": held}, separators=(",", ":"))


def alloc_from_json(text: str) -> tuple[NodeAlloc, list[tuple[int, list[int], list[int]]]]:
    data = json.loads(text)
    held = [(int(n), list(c), list(g)) for n, c, g in data["held"]]
    nodes = np.array([h[0] for h in held], dtype=np.intp)
    return NodeAlloc(nodes, np.array(data["amounts"], dtype=np.int64)), held


def ran_in(live: Live, nodes: Sequence[str], partitions: Mapping[str, Sequence[str]], tiers: Mapping[str, int]) -> str:
    """The partition a job submitted to several (-p a,b) runs in: the one whose nodes the engine gave it, in the
    engine's order (it named the first listed that held the job's first node: `small` for a[01-03], a03 being in
    `all` only, QA)."""
    return holding(live.request.partition, tiers, partitions, nodes)


def log_paths(live: Live, first_node: str) -> tuple[str, str]:
    req, task = live.request, (live.array_job_id, live.array_task_id)
    return log_files(req.output, req.error, req.workdir, live.job_id, req.name, live.user, *task, first_node)


def launch_spec(
    live: Live,
    shares: tuple[NodeShare, ...],
    out: str,
    err: str,
    topology: dict[str, list[str]] | None = None,
    cluster: str = "",
    access: Callable[[int, int], dict[str, str]] | None = None,
) -> LaunchSpec:
    """What the executor starts; ``topology``: each node's switches (Machine.topology_addrs); ``cluster``: the
    cluster file's name, which Slurm always gives a job as SLURM_CLUSTER_NAME, lower-cased as its ClusterName (it
    was missing), at launch: the cluster a job runs on, not one a submitter exported from elsewhere. ``access``:
    the job's own token and the server's home, so `hal` inside it is its user on this server (a submitter's
    HAL_URL is dropped: it may name this server by an address the nodes cannot reach, or another server)."""
    req = live.request
    env = dict(req.env)
    if access is not None:
        env.pop("HAL_URL", None)
        env.update(access(live.job_id, live.restarts))
    if cluster:
        env["SLURM_CLUSTER_NAME"] = cluster.lower()
    if topology:  # read by the executor for the batch shell and each srun task (executors/jobenv.py)
        env["HAL_TOPOLOGY_ADDRS"] = json.dumps(topology)
    escaped_out, escaped_err = out.replace("%", "%%"), err.replace("%", "%%")
    task, node = (live.array_job_id, live.array_task_id), shares[0].node if shares else None
    stdin = input_file(req.input, req.workdir, live.job_id, req.name, live.user, *task, node) if req.input else ""
    return LaunchSpec(
        job_id=live.job_id,
        name=req.name or "job",
        user=live.user,
        script=req.script,
        workdir=Path(req.workdir),
        stdout=escaped_out,
        stderr=escaped_err,
        shares=shares,
        ntasks=req.tasks,
        cpus_per_task=req.cpus_per_task,
        time_limit=req.time_limit,
        env=env,
        array_job_id=live.array_job_id,
        array_task_id=live.array_task_id,
        partition=live.partition,
        account=req.account,
        args=tuple(req.args),
        open_mode=req.open_mode,
        restarts=live.restarts,
        warn_signal=early_signal(req.signal),
        stdin=stdin.replace("%", "%%"),  # named here as its output is; the executor's expansion keeps it
    )


def job_ref(row: Row) -> str:
    """How Slurm prints a job id: 123, or 120_3 for a task of array 120."""
    if row.get("array_job_id") is not None:
        return f"{row['array_job_id']}_{row['array_task_id']}"
    return str(row["id"])


def resubmitted(store: Any, conn: Any, user: str, key: str, req: JobRequest) -> Submitted | None:
    """The jobs an earlier submission under this idempotency key made (a retry), or None. A retry must be the
    same request (controller/same_request.py): another one under a used key returned the first jobs silently,
    and the new work never ran."""
    found = store.find_submission(conn, user, key)
    if found is None:
        return None
    differ = differing(store, conn, found[0], found[1], req)
    if differ:
        raise SubmitError(refusal(key, differ))
    return Submitted(list(range(found[0], found[0] + found[1])), found[0] if found[1] > 1 or req.array else None, True)

"""A site's own accounting records as an SWF trace, so what-if studies (`hal simulate`, `hal tune`,
`hal predict-eval`) replay this cluster's real history through the same engine that scheduled it.

Users, accounts (SWF's group), job names (its executable) and QOS (its queue) are numbered in order of first
appearance; partitions by their order in the cluster file, and the ``HalPartitions`` header names them, so
`hal simulate --cluster` puts each job back in its partition with that partition's nodes and limits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from hal.model.cluster import Cluster
from hal.model.job import JobSpec
from hal.sim.links import keep_known_deps, unlinked
from hal.sim.swf import Problem, SwfRecord, SwfTrace
from hal.sim.trace_notes import EXPORTED
from hal.sim.workload import Workload

ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL")
STATUS = {"COMPLETED": 1, "CANCELLED": 5}  # SWF: 1 completed, 5 cancelled, 0 failed (every other end)
PARTITIONS_KEY = "HalPartitions"


class _Numbering:
    """Names to 1, 2, ... in order of first appearance (SWF fields are numbers)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.codes: dict[str, int] = {}
        for name in names:
            self(name)

    def __call__(self, name: str | None) -> int:
        if not name:
            return -1
        return self.codes.setdefault(name, len(self.codes) + 1)


def _int(value: Any) -> int:
    return -1 if value is None else round(float(value))


def to_swf(jobs: list[dict[str, Any]], nodes: dict[str, Any]) -> tuple[dict[str, str], list[SwfRecord]]:
    """Header and records of the ended jobs among ``jobs`` (API records, any order), times relative to the
    first submission; ``nodes`` is the API's nodes view (machine size, partitions in cluster order)."""
    ended = sorted((j for j in jobs if j.get("state") in ENDED), key=lambda j: (_eligible(j), j["job_id"]))
    preceding = _preceding(ended)
    partitions = _Numbering(p["name"] for p in nodes.get("partitions", []))
    users, groups, names, queues = _Numbering(), _Numbering(), _Numbering(), _Numbering()
    origin = _eligible(ended[0]) if ended else 0.0
    records: list[SwfRecord] = []
    for j in ended:
        started, end = j.get("start_time"), j.get("end_time")
        ran = started is not None and end is not None
        started, end = float(started or 0.0), float(end or 0.0)
        procs = j.get("alloc_cpus") or j.get("req_cpus") or -1
        per_proc = max(1, procs)
        mem = j.get("req_mem_mb")
        records.append(
            SwfRecord(
                job_id=int(j["job_id"]),
                submit=round(_eligible(j) - origin),
                wait=round(started - _eligible(j)) if ran else -1,
                run=round(end - started) if ran else -1,  # a job cancelled while pending never ran
                procs=procs if ran else -1,
                cpu_time=round(j["cpu_seconds"] / per_proc) if ran and j.get("cpu_seconds") else -1,
                mem_used=round(j["max_rss_mb"] * 1024 / per_proc) if ran and j.get("max_rss_mb") else -1,
                req_procs=_int(j.get("req_cpus")),
                req_time=_int(requested_time(j)),
                req_mem=round(mem * 1024 / max(1, j.get("req_cpus") or 1)) if mem else -1,
                status=STATUS.get(j["state"], 0),
                user=users(j.get("user")),
                group=groups(j.get("account")),
                executable=names(j.get("name")),
                queue=queues(j.get("qos")),
                partition=partitions(j.get("partition")),
                preceding=preceding.get(int(j["job_id"]), -1),
                think_time=0 if int(j["job_id"]) in preceding else -1,
            )
        )
    cpus = sum(int(n.get("cpus", 0)) for n in nodes.get("nodes", []))
    header = {
        "Version": "2.2",
        "Computer": f"HAL cluster {nodes.get('cluster', '')}".strip(),
        "Installation": EXPORTED,  # a replay of this file learns as the server did (hal.sim.workload.cut_short)
        "UnixStartTime": str(round(origin)),
        "StartTime": datetime.fromtimestamp(origin, UTC).strftime("%a %b %d %H:%M:%S UTC %Y") if ended else "",
        "MaxJobs": str(len(records)),
        "MaxRecords": str(len(records)),
        "MaxNodes": str(len(nodes.get("nodes", []))),
        "MaxProcs": str(cpus),
        PARTITIONS_KEY: " ".join(f"{code}={name}" for name, code in partitions.codes.items()),
        "Note": "users, groups (accounts), executables (job names) and queues (QOS) are numbered by first "
        "appearance; jobs cancelled before they started have run time -1; a --begin job is submitted at its begin "
        "time, a held job when it was released; field 9 is the --time asked, before any --time-min cut; field 17 is "
        "the job it waited for (afterok/afterany) that ended last, or for a task of an array with a %limit, the task "
        "that many places before it",
    }
    return header, records


def requested_time(job: dict[str, Any]) -> Any:
    """SWF field 9, the time the user asked for: a job backfill started with its limit cut (--time-min) asked for
    its --time, and a replay that saw the cut planned it shorter than users give; a limit an administrator set by
    hand (hal update clears the cut's mark) stands as set. None: no limit."""
    return job.get("time_asked") if job.get("time_lowered") else job.get("time_limit")


def _eligible(job: dict[str, Any]) -> float:
    """When the job could first start: its submission, or its --begin time or its release from a hold if
    later (SWF has neither, so a replay submits it then, and the time it was held is not queue wait)."""
    times = [job["submit_time"], job.get("begin"), job.get("released")]
    return max(float(t) for t in times if t is not None)


def _preceding(ended: list[dict[str, Any]]) -> dict[int, int]:
    """SWF's one preceding job per job: for a task of an array with a %limit past its first ``limit`` tasks, the
    task ``limit`` places before it (the lanes the limit runs its tasks in; the first tasks carry the array's own
    dependency, so every lane waits for it too); else, of the jobs it waited for to end (afterok, afterany,
    afternotok; an array stands for all its tasks), the one that ended last."""
    out: dict[int, int] = {}
    by_array: dict[int, list[dict[str, Any]]] = {}
    ends = {int(j["job_id"]): float(j.get("end_time") or 0.0) for j in ended}
    named = _task_ids(ended)
    for j in ended:
        pairs = j.get("waits_on", j.get("dependencies")) or []  # waits_on: a singleton's jobs as afterany pairs
        kinds = ("afterok", "afterany", "afternotok")
        refs = [ref for kind, _, ref in (str(d).partition(":") for d in pairs) if kind in kinds]
        waited = [t for ref in refs for t in named.get(ref, ()) if t in ends]
        if waited:  # SWF has one: the job it waited for longest (the last to end of those it depended on)
            out[int(j["job_id"])] = max(waited, key=lambda ref: (ends[ref], ref))
        if j.get("array_job_id") is not None and j.get("array_limit"):
            by_array.setdefault(int(j["array_job_id"]), []).append(j)
    for tasks in by_array.values():
        tasks.sort(key=lambda t: t["job_id"])
        limit = int(tasks[0]["array_limit"])
        for k, t in enumerate(tasks[limit:], start=limit):  # the lane: through it, the array's dependency too
            out[int(t["job_id"])] = int(tasks[k - limit]["job_id"])
    return out


def _task_ids(ended: list[dict[str, Any]]) -> dict[str, list[int]]:
    """A dependency's reference as the records it stands for: a job id, an array's id (every task: the first
    task's record carries it, and an export named only that task, so a replay started the dependant after the
    first task instead of the last, QA), or ``ARRAY_TASK`` (that task)."""
    out: dict[str, list[int]] = {}
    for j in ended:
        job = int(j["job_id"])
        out.setdefault(str(job), []).append(job)
        array = j.get("array_job_id")
        if array is not None and j.get("array_task_id") is not None:
            if int(array) != job:
                out.setdefault(str(array), []).append(job)
            out.setdefault(f"{array}_{j['array_task_id']}", []).append(job)
    return out


def partition_names(header: dict[str, str]) -> dict[int, str] | None:
    """The ``HalPartitions`` header of an exported trace (number -> name); None when the trace has none."""
    raw = header.get(PARTITIONS_KEY)
    if raw is None:
        return None
    out: dict[int, str] = {}
    for part in raw.split():
        number, _, name = part.partition("=")
        if not number.isdigit() or not name:
            raise ValueError(f"header {PARTITIONS_KEY}: {part!r} is not NUMBER=NAME")
        out[int(number)] = name
    return out


def into_partitions(workload: Workload, trace: SwfTrace, cluster: Cluster) -> Workload:
    """Each job of a trace that names its partitions back in its partition (the default one for a job without, and
    for every job of a trace that names none), with the admission rule a live server applies: a request over
    the partition's ``max_time`` is refused (skipped, with the reason). The engine then limits each job to its
    partition's nodes. On nodes that declare memory, a job asks for the memory of SWF field 10, as it did live.
    A skipped job's dependants (field 17) start without waiting for it, as for one skipped when the trace was read."""
    names = partition_names(trace.header) or {}  # another trace: every job in the default partition, as live
    default = cluster.default_partition()
    known = {p.name: p for p in cluster.partitions}
    records = {rec.job_id: rec for rec in trace.records}
    with_mem = any(n.capacity.mem_mb > 0 for n in cluster.nodes)  # nodes that declare memory: field 10 holds
    jobs: list[JobSpec] = []
    for job in workload.jobs:
        rec = records[job.job_id]
        if names and rec.partition > 0 and rec.partition not in names:  # was put in the default one silently
            why = f"job {job.job_id}: partition number {rec.partition} is not in the trace's {PARTITIONS_KEY} header"
            workload.skipped.append(Problem(rec.line, why))
            continue
        name = names.get(rec.partition) or (default.name if default is not None else "")
        part = known.get(name)
        if part is None:
            why = f"job {job.job_id}: partition {name!r} is not in the cluster file (it has {sorted(known)})"
            workload.skipped.append(Problem(rec.line, why))
            continue
        if rec.req_time <= 0 and part.max_time is not None:  # no --time: the partition's limit, as a live server
            job = dataclasses.replace(job, time_limit=part.max_time, request_known=True)  # gives it (a real bound)
        # else the replay's stand-in stays (its run time, for user estimates only): planning every such job at a
        # hidden default of an hour made --gpus what-ifs on the AI traces plan backfilling as if all ran 1 h
        if part.max_time is not None and job.time_limit is not None and job.time_limit > part.max_time:
            limit = f"{name!r} allows {part.max_time:.0f} s"
            why = f"job {job.job_id}: PartitionTimeLimit: asks {job.time_limit:.0f} s, {limit}"
            workload.skipped.append(Problem(rec.line, why))
            continue
        if with_mem and rec.req_mem > 0:  # SWF: KB per processor, and each trace task is one processor
            job = dataclasses.replace(job, per_task=dataclasses.replace(job.per_task, mem_mb=-(-rec.req_mem // 1024)))
        jobs.append(dataclasses.replace(job, partition=name))
    workload.jobs = keep_known_deps(jobs)  # a job skipped here: its dependants start without waiting for it
    cut = unlinked(jobs, workload.jobs)
    if cut:
        workload.notes.append(
            f"{len(cut)} job(s) name in field 17 a preceding job skipped for its partition, e.g. job {cut[0]}: they "
            "start without waiting for it"
        )
    return workload

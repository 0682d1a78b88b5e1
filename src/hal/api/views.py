"""What the API shows: job records as users read them, node states as sinfo groups them, queue summaries."""

from __future__ import annotations

import json
import re
import signal
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hal.api.alloc_gpus import alloc_gpu_types, held_gpu_types, node_gpu_types
from hal.controller.array_split import is_split
from hal.controller.attempts import attempt_row, attempts_of
from hal.controller.core import Controller
from hal.controller.jobs import Row, job_ref
from hal.controller.machine import switch_chain
from hal.engine.accrual import current_usage
from hal.engine.nodes import NodeAlloc
from hal.executors.hostlist import expand
from hal.executors.jobenv import input_file, log_files

PUBLIC = (
    "job_id", "array_job_id", "array_task_id", "name", "user", "account", "partition", "qos", "state", "cause",
    "submit_time", "start_time", "end_time", "time_limit", "req_nodes", "req_tasks", "req_cpus", "req_mem_mb",
    "req_gpus", "alloc_cpus", "nodelist", "exit_code", "signal", "cpu_seconds", "max_rss_mb", "requeue", "restarts",
    "workdir", "stdout_path", "stderr_path", "reason", "predicted_start", "predicted_start_p90", "placement",
    "predicted_end", "queue_position",
)  # fmt: skip


def record(row: Row, now: float, detail: bool = False) -> dict[str, Any]:
    """A job as the API returns it; ``id`` is Slurm's printed form (123 or 120_3)."""
    out: dict[str, Any] = {"id": job_ref(row), "job_id": row["id"]}
    for key in PUBLIC[1:]:
        out[key] = row.get(key)
    start, end = row.get("start_time"), row.get("end_time")
    out["elapsed"] = (end if end is not None else now) - start if start is not None else 0.0
    if row["state"] == "CONFIGURING":  # staging its inputs: its clock starts at the launch (data/launch_clock.py)
        out["elapsed"] = 0.0
    out["alloc_mem_mb"], out["alloc_gpus"] = held_amounts(row.get("alloc"))
    out.setdefault("reason", None)
    if row["state"] != "PENDING":
        out["reason"] = ended_reason(row)  # as scontrol shows an ended job's Reason
    if row["state"] != "RUNNING":
        out["predicted_end"] = None
    out["cache_held"] = row.get("cache_held")  # CacheWait: a kept failed output holds the room (None: inputs do)
    out["completing"] = bool(row.get("completing"))  # stopping (hal/controller/reasons.py): squeue's CG
    out["time_min"] = stored_time_min(row.get("request"))  # squeue -O TimeMin: in listings too (no JSON parse)
    kind = GPU_KIND.search(row.get("request") or "")  # ReqTRES's gres/gpu:TYPE (hal show, sacct, squeue %b)
    out["gpu_type"] = kind.group(1) if kind is not None else ""
    out["array_split"] = row.get("array_job_id") is not None and is_split(row.get("request"))  # its own squeue line
    gpu_tres(out, gpu_split(row.get("request") or "", int(row.get("req_tasks") or 1)) if row.get("req_gpus") else None)
    if detail:
        req = json.loads(row["request"])
        out["dependencies"] = typed_dependencies(req.get("dependencies", []))
        out["waits_on"] = [f"{'afterany' if k == 'singleton' else k}:{r}" for k, r in req.get("dependencies", []) if r]
        out["data_waits"] = req.get("data_waits") or {}  # the afterok HAL added for an input's writer (not typed)
        out["cpus_per_task"] = req.get("cpus_per_task")
        out["array_limit"] = req.get("array_limit")
        out["begin"] = req.get("begin")
        out["features"] = req.get("features") or []
        out["exclude"] = req.get("exclude_nodes") or []
        out["req_nodelist"] = req.get("node_names") or []
        out["released"] = req.get("_released")  # the last hal release of a held job
        out["eligible"] = req.get("_eligible")  # when its dependencies were met
        out["time_lowered"] = req.get("time_lowered", False)  # a --time-min cut: time_limit is backfill's,
        out["time_asked"] = req.get("time_asked")  # and this the --time asked (what SWF's Requested Time says)
        out["script"] = req.get("script")
        out["comment"] = req.get("comment", "")
        out["exclusive"] = req.get("exclusive", False)  # True, or Slurm's "user" / "mcs" / "topo"
        out["nice"] = req.get("nice", 0)
        out["placement_request"] = {k: req[k] for k in PLACEMENT_KEYS if req.get(k) not in (None, "")}
        out["input_data"] = req.get("inputs") or []
        out["output_data"] = req.get("outputs") or []
        out.update(std_paths(row, req))
    return out


def std_paths(row: Row, req: dict[str, Any]) -> dict[str, str]:
    """scontrol's StdOut/StdErr/StdIn: the paths it logs to, known before it starts (a script finds its log by
    them); until then from its --output/--error with %N as typed, named as the launch names them. StdIn is its
    --input (/dev/null without one), %N its first node's once it started."""
    out, err = row.get("stdout_path") or "", row.get("stderr_path") or ""
    task = (row.get("array_job_id"), row.get("array_task_id"))
    name, workdir = req.get("name") or "", req.get("workdir") or row.get("workdir") or ""
    node = expand(row["nodelist"])[0] if out and row.get("nodelist") else None
    stdin = input_file(req.get("input") or "", workdir, row["id"], name, row["user"], *task, node)
    if not out:
        out, err = log_files(
            req.get("output") or "", req.get("error") or "", workdir, row["id"], name, row["user"], *task, None
        )
    return {"stdout_path": out, "stderr_path": err, "stdin_path": stdin}


TIME_MIN = re.compile(r'"time_min":\s*(null|[0-9.eE+-]+)')  # stored compact, or with spaces (holds.py)
GPU_KIND = re.compile(r'"gpu_kind":\s*"([A-Za-z0-9_.-]*)"')  # likewise: a type is a name (gpu_options.GPU_TYPE)
GPU_KEYS = "nodes|gpus_per_task|gpus_per_node|gpus_per_job|gpus_asked|cpus_per_gpu|gpu_kind|env"
GPU_ASKS = re.compile(rf'"({GPU_KEYS})":\s*(null|\d+|"[^"\\]*"|{{)')  # up to the environment (env, or gpu_kind)
ASKED = re.compile(r'"gpus_asked":\s*"[a-z]')  # a small stored request (an array task's): searched whole
TASK_GPUS = re.compile(r'"SLURM_GPUS_PER_TASK":\s*"([^"\\]*)"')  # a value: a count, TYPE:count


@dataclass(frozen=True)
class GpuSplit:
    """How a job asked for its GPUs, as Slurm keeps it: per job (--gpus/-G: TresPerJob), per node (--gres,
    --gpus-per-node: TresPerNode) or per task (--gpus-per-task, --tres-per-task, --ntasks-per-gpu: TresPerTask);
    each the count so asked, 0 for the ways it did not ask. squeue's TRES fields show each apart. ``cpus_per_gpu``:
    the task's CPUs came from --cpus-per-gpu (Slurm's CpusPerTres), not --cpus-per-task (TresPerTask's cpu=)."""

    job: int = 0
    node: int = 0
    task: int = 0
    cpus_per_gpu: bool = False


def gpu_split(stored: str, tasks: int, env: str | None = None) -> GpuSplit:
    """A request's GpuSplit, read without parsing it (as stored_time_min; the request's own keys come first, the
    GPU ones up to gpu_kind in the order stored). How the GPUs were asked is kept with the request (gpus_asked).
    Requests stored before it: a -N job keeps --gres and --gpus-per-node per node; one task without -N keeps its
    GPUs per task however it asked, so its SLURM_GPUS_PER_TASK (set by the per-task options, or inherited from the
    submitter's job) tells --gres=gpu:N from --gpus-per-task=N; an array task after the first keeps its
    environment with the first's request (``env``)."""
    found: dict[str, str] = {}
    for m in GPU_ASKS.finditer(stored):
        if m.group(1) in ("gpu_kind", "env"):  # stored after the others: an update adds missing keys after env
            break
        found.setdefault(m.group(1), m.group(2))
    job, node, task = (
        int(v) if (v := found.get(k, "")).isdigit() else 0 for k in ("gpus_per_job", "gpus_per_node", "gpus_per_task")
    )
    per_gpu = found.get("cpus_per_gpu", "").isdigit() and int(found["cpus_per_gpu"]) > 0
    asked = found.get("gpus_asked", "").strip('"')
    if asked == "job" or (not asked and job):
        return GpuSplit(job=job, cpus_per_gpu=per_gpu)
    if asked == "node" or (not asked and node):  # without -N one task's GPUs are its node's (gpus_per_task)
        return GpuSplit(node=node or task, cpus_per_gpu=per_gpu)
    if asked or not task or tasks != 1 or found.get("nodes", "null") != "null":
        return GpuSplit(task=task, cpus_per_gpu=per_gpu)
    given = TASK_GPUS.search(env if env is not None else stored)  # stored before gpus_asked: one task, no -N
    per_task = given is not None and given.group(1).split(":")[-1] == str(task)
    return GpuSplit(task=task) if per_task else GpuSplit(node=task)


def gpu_tres(rec: dict[str, Any], split: GpuSplit | None) -> None:
    """A record's request as Slurm's TresPerJob, TresPerNode and TresPerTask (squeue -O tres-per-job, %b /
    tres-per-node, tres-per-task), None where nothing was asked that way: gres/gpu[:TYPE]:N per job and node;
    per task cpu=N (--cpus-per-task of more than one CPU; not --cpus-per-gpu's) and gres/gpu[:TYPE]=N, as Slurm
    writes that one."""
    gres = f"gres/gpu:{rec['gpu_type']}" if rec.get("gpu_type") else "gres/gpu"
    rec["tres_per_job"] = f"{gres}:{split.job}" if split and split.job else None
    rec["tres_per_node"] = f"{gres}:{split.node}" if split and split.node else None
    cpus = int(rec.get("req_cpus") or 0) // max(int(rec.get("req_tasks") or 1), 1)  # its cpus_per_task
    cpus = 0 if split and split.cpus_per_gpu else cpus
    per_task = ([f"cpu={cpus}"] if cpus > 1 else []) + ([f"{gres}={split.task}"] if split and split.task else [])
    rec["tres_per_task"] = ",".join(per_task) or None


def stored_time_min(stored: str | None) -> float | None:
    """--time-min (scontrol's TimeMin) from the stored request without parsing it: a listing parsed every row's
    request (its script and environment, up to 100 KB each) for one number. The first match is the request's own
    key: a quote inside a JSON string is escaped, and the field comes before the environment's keys."""
    found = TIME_MIN.search(stored or "")
    return float(found.group(1)) if found is not None and found.group(1) != "null" else None


def held_amounts(alloc: str | None) -> tuple[int | None, int | None]:
    """Memory and GPUs a started job holds over its nodes (AllocTRES): with --exclusive the whole nodes', with an
    uneven -N/-n each node's own share. None: no allocation stored."""
    if not alloc:
        return None, None
    amounts = json.loads(alloc).get("amounts") or []
    return sum(int(r[1]) for r in amounts), sum(int(r[2]) for r in amounts)


ENDED_REASONS = {"FAILED": "NonZeroExitCode", "OUT_OF_MEMORY": "OutOfMemory", "TIMEOUT": "TimeLimit",
                 "NODE_FAIL": "NodeDown"}  # fmt: skip


def ended_reason(row: Row) -> str | None:
    """Slurm's Reason for an ended job. A job that FAILED with exit code 0 did not fail by its exit code (it
    said NonZeroExitCode with ExitCode=0:0): its data failed (BurstBufferOperation), or it never launched. One
    whose stage-in failed for good never launched either, though it is recorded with ExitCode 1:0 as Slurm records
    a failed launch (QA: it said NonZeroExitCode)."""
    if row["state"] == "FAILED" and row.get("signal"):  # killed from outside: Slurm's RaisedSignal:9(Killed)
        sig = int(row["signal"])
        return f"RaisedSignal:{sig}({signal.strsignal(sig) or sig})"
    cause = str(row.get("cause") or "")
    if row["state"] == "FAILED" and cause.startswith("stage-in failed"):  # hal/data/live.py: never launched
        return "JobLaunchFailure"
    if row["state"] != "FAILED" or row.get("exit_code"):
        return ENDED_REASONS.get(row["state"])
    if cause.startswith(("stage-out", "outputs never staged out", "declared output")):
        return "BurstBufferOperation"
    if cause.startswith("rejected"):  # records from before parking (hal/controller/parked.py): a restart on a
        return "BadConstraints"  # cluster file that no longer fitted it FAILED it; such jobs now stay PENDING
    return "JobLaunchFailure"  # exit code 0 and FAILED: it never ran (inputs, output files, folders, its data)


PLACEMENT_KEYS = ("switches", "switches_wait", "segment", "topology_required", "topology_preferred")


def running_ends(ctl: Controller, rows: list[Row]) -> list[Row]:
    """A running job's end as the planner expects it now: predicted, or extended once the job outlived that."""
    with ctl.lock:
        for r in rows:
            act = ctl.sched.running.get(r["id"]) if r["state"] == "RUNNING" else None
            if act is not None:
                r["predicted_end"] = act.predicted_end
    return rows


def with_attempts(ctl: Controller, rows: list[Row], recs: list[dict[str, Any]], now: float) -> None:
    """sacct -D: each record gets its job's earlier attempts (``attempts``, oldest first), each a record of that
    run (its start, end, nodes, state) that keeps the job's request details."""
    found, kinds = attempts_of(ctl.store, [r["id"] for r in rows]), node_gpu_types(ctl)
    for row, rec in zip(rows, recs, strict=True):
        rec["attempts"] = [
            {**{k: v for k, v in rec.items() if k not in ("attempts", "stage_out")}, **record(attempt_row(row, a), now),
             "alloc_gpu_types": held_gpu_types(a.get("alloc"), kinds)}  # that run's nodes' GPUs
            for a in found.get(row["id"], [])
        ]  # fmt: skip


def nodes_view(ctl: Controller) -> dict[str, Any]:
    """Nodes as sinfo shows them: idle, mix, alloc, blocked (free, but in a block an --exclusive=topo job keeps
    from other jobs), drain or drng; what is allocated counts jobs' own amounts, not what they hold."""
    with ctl.lock:
        cap = ctl.table.capacity.copy()
        held = held_by_topo(ctl)
        free = ctl.book.free + held
    cluster = ctl.machine.cluster
    topo = cluster.topology
    nodes = []
    all_parts = [p.name for p in cluster.partitions]
    for i, node in enumerate(cluster.nodes):
        used = cap[i] - free[i]
        state = "idle" if not used.any() else ("alloc" if used[0] >= cap[i][0] else "mix")
        if state == "idle" and held[i].any():  # Slurm's BLOCKED: no job runs there, and none may start
            state = "blocked"
        drain = ctl.drained.get(node.name)
        if drain is not None:  # sinfo's drain (nothing runs there) and drng (its jobs still run)
            state = "drng" if used.any() else "drain"
        nodes.append(
            {
                "name": node.name, "state": state, "partitions": list(node.partitions) or all_parts,
                "cpus": int(cap[i][0]), "cpus_alloc": int(used[0]), "mem_mb": int(cap[i][1]),
                "mem_alloc_mb": int(used[1]), "gpus": int(cap[i][2]), "gpus_alloc": int(used[2]),
                "topology": switch_chain(topo.paths[i]) if topo is not None else [], "cpuset": ctl.machine.cpusets[i],
                "topology_outside": topo.outside_of if topo is not None and i in topo.outside else None,
                "features": list(node.features), "reason": drain["reason"] if drain else "",
                "reason_user": drain["user"] if drain else "", "reason_time": drain["time"] if drain else None,
                **cache_view(ctl, node.name),
            }
        )  # fmt: skip
    parts = [
        {"name": p.name, "default": p.default, "max_time": p.max_time, "nodes": list(p.nodes)}
        for p in cluster.partitions
    ]
    return {"cluster": cluster.name, "nodes": nodes, "partitions": parts}


def held_by_topo(ctl: Controller) -> npt.NDArray[np.int64]:
    """Per node, what running --exclusive=topo jobs hold of their blocks beyond their own amounts: the book
    counts it taken (engine/sharing.py), yet no job uses it. The caller holds the lock."""
    held = np.zeros_like(ctl.table.capacity)
    for act in ctl.sched.running.values():
        block = getattr(act.alloc, "held", None)
        if isinstance(block, NodeAlloc):
            np.add.at(held, block.nodes, block.amounts)
    return held


def partition_label(partition: str) -> str:
    """A job's partition as /metrics labels it and /v1/queue/summary counts it: a pending job's list (-p
    debug,batch) sorted, so every ordering users type is one series (each was its own). Sorted rather than counted
    under each partition (totals would count it twice) or under the first named (again the user's order)."""
    return ",".join(sorted(set(partition.split(",")))) if "," in partition else partition


def htc_slots(ctl: Controller) -> tuple[int, int]:
    """HTC slots held now and their CPUs (QA: sessions filled every node while the queue said nothing ran)."""
    held, running = list(ctl.htc.counts.held) if ctl.htc is not None else [], ctl.sched.running
    return len(held), sum(int(running[j].alloc.amounts[:, 0].sum()) for j in held if j in running)


def summary_view(ctl: Controller) -> dict[str, Any]:
    """What everyone may see, as in Slurm: how many jobs wait and run, per partition and state, no details."""
    with ctl.lock:
        counts = Counter((partition_label(lv.partition), lv.state) for lv in ctl.live.values())
        out = outputs.staging_out() if (outputs := getattr(ctl.staging, "outputs", None)) else {}
        users = len({lv.user for lv in ctl.live.values()} | set(out.values()))
        stopping = sum(
            1 for j in ctl.cancelling | set(ctl.requeueing) if j in ctl.live and ctl.live[j].state == "RUNNING"
        )
        slots = htc_slots(ctl)
    by_part: dict[str, dict[str, int]] = {}
    for (part, state), n in counts.items():
        by_part.setdefault(part, {})[state] = n
    return {
        "pending": sum(n for (_, s), n in counts.items() if s == "PENDING"),
        "running": sum(n for (_, s), n in counts.items() if s == "RUNNING") - stopping,
        "completing": stopping,  # squeue's CG: cancelled or requeued, its processes given their grace period
        "staging_out": len(out),
        "htc_slots": slots[0],  # held by HTC sessions (hal sessions): their CPUs are busy without a job
        "htc_cpus": slots[1],
        "users": users,
        "partitions": by_part,
    }


def usage_view(ctl: Controller, user: str | None) -> dict[str, Any]:
    now = ctl.clock()
    with ctl.lock:
        users = current_usage(ctl.sched, now)  # running jobs' usage up to now included (engine/accrual.py)
        accounts = current_usage(ctl.sched, now, accounts=True)
    if user is not None:
        users = {k: v for k, v in users.items() if k == user}
        accounts = {}
    return {"half_life": ctl.profile.half_life, "users": users, "accounts": accounts}


def cache_view(ctl: Controller, node: str) -> dict[str, int]:
    """A node's data cache: bytes used (datasets and copies under way), held (running jobs' inputs and copies
    under way: no eviction frees them) and its size; nothing without a data plane."""
    cache = ctl.staging.stager.caches.get(node) if ctl.staging is not None else None
    if cache is None:
        return {}
    return {
        "cache_bytes": cache.used(),
        "cache_held": cache.held(),
        "cache_size": cache.capacity,
    }


def per_cpu_memory(ctl: Controller, rows: list[Row], recs: list[dict[str, Any]]) -> None:
    """Each record's ``mem_per_cpu_mb``: what --mem-per-cpu asked (squeue's %m shows it, not the per-node total),
    None for --mem or no memory request. The request keeps it as SLURM_MEM_PER_CPU (checked against the task's
    memory: a variable inherited from the submitter's own job is not the request); an array's later tasks share
    the first task's environment, read once per array. That environment also settles how such a task asked for
    GPUs (shared_gpu_asks)."""
    firsts: dict[int, int | None] = {}
    for row, rec in zip(rows, recs, strict=True):
        stored = row.get("request") or ""
        rec["mem_per_cpu_mb"] = None
        if not row.get("req_mem_mb"):
            continue
        if '"_shared":' not in stored:
            rec["mem_per_cpu_mb"] = _mem_per_cpu(stored)
            continue
        first = rec.get("array_job_id")
        if first is not None and first not in firsts:
            origin = ctl.store.get(first)
            firsts[first] = _mem_per_cpu(origin["request"]) if origin is not None else None
        rec["mem_per_cpu_mb"] = firsts.get(first) if first is not None else None
    shared_gpu_asks(ctl, rows, recs)  # the other answer kept in that environment
    alloc_gpu_types(ctl, rows, recs)  # AllocTRES's GPU types: the pass both job endpoints make with the controller


def shared_gpu_asks(ctl: Controller, rows: list[Row], recs: list[dict[str, Any]]) -> None:
    """The GPU split of one-task array tasks without -N after the first, stored before gpus_asked (gpu_split): their
    SLURM_GPUS_PER_TASK is kept with the first task's request, read once per array; record() took their GPUs as
    asked per node."""
    origins: dict[int, str] = {}
    for row, rec in zip(rows, recs, strict=True):
        stored, first = row.get("request") or "", rec.get("array_job_id")
        if not rec.get("tres_per_node") or row.get("req_nodes") or first is None or '"_shared":' not in stored:
            continue
        if ASKED.search(stored):  # kept with the request since (gpu_split)
            continue
        if first not in origins:
            origin = ctl.store.get(first)
            origins[first] = origin["request"] if origin is not None else ""
        gpu_tres(rec, gpu_split(stored, int(row.get("req_tasks") or 1), origins[first]))


def _mem_per_cpu(stored: str) -> int | None:
    if "SLURM_MEM_PER_CPU" not in stored:  # most requests: no parse
        return None
    req = json.loads(stored)
    value = str((req.get("env") or {}).get("SLURM_MEM_PER_CPU", ""))
    if not value.isdigit() or int(value) * int(req.get("cpus_per_task") or 1) != req.get("mem_per_task_mb"):
        return None
    return int(value)


def typed_dependencies(pairs: list[list[str]]) -> list[str]:
    """The dependencies as typed (6_7 names an array task; a '?' list: one entry, HAL's added afterok after it),
    "singleton" once for the jobs it resolved to (admission.singleton_pairs; rows stored before then: afterany:ID)."""
    shown: list[str] = []
    for kind, ref in pairs:
        if kind != "singleton":
            shown.append(f"{kind}:{ref}")
        elif kind not in shown:
            shown.append(kind)
    at = shown.index("?:") if "?:" in shown else -1  # ANY_OF's pair, as printed
    return ["?".join(shown[:at]), *shown[at + 1 :]] if at >= 0 else shown

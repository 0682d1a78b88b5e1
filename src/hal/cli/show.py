"""`hal show JOB`: scontrol show job for HAL, including why a pending job waits and the fix to try."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from hal.cli import queue_select
from hal.cli.common import err, fail, out
from hal.cli.live import JsonOpt, client, duration, emit_json, num_nodes, stamp, tres, whole_elapsed
from hal.cli.show_merge import records
from hal.controller.option_values import scontrol_time
from hal.controller.parked import parked_advice
from hal.controller.task_lists import NotATaskList, task_list
from hal.executors.hostlist import compress
from hal.executors.scontrol import HostlistError, hostlist_form

ADVICE = {
    "Priority": "jobs with a higher priority are ahead; it will start when they have",
    "Resources": "it is next in line and waits for nodes to free up",
    "Dependency": "it waits for the jobs it depends on",
    "DependencyNeverSatisfied": "a job it depends on ended the wrong way; cancel it and resubmit",
    "BeginTime": "its --begin time has not come yet",
    "JobArrayTaskLimit": "its array already has as many tasks queued or running as its %limit allows",
    "JobHeldUser": "it is held (hal hold, or submitted with -H/--hold); hal release JOB lets it start",
    "JobHeldAdmin": "an administrator held it; only an administrator can release it (hal release JOB)",
    "StageInRetry": "its inputs could not be staged (see Cause); it tries again after a pause that doubles",
    "CacheWait": "the node caches are full of running jobs' inputs; it tries again once some may have ended",
    "ReqNodeNotAvail": "nodes it needs are drained (hal nodes -R); it can start once an administrator resumes them",
    "Topology": "nodes are free, but not inside the switches, blocks or level it may use (its --switches, --segment, "
    "--topology or --exclusive=topo, or the largest domain a job may span)",
    "DataLocality": "nodes are free, but delay scheduling keeps it a while for nodes that cache its --input-data "
    "([data] delay); once that wait is over it takes free nodes and its data is staged there",
    "PartitionNodeLimit": "it asks for more nodes than its partition has",
    "PartitionDown": "its partition is not in the cluster file",
    "BadConstraints": "no node of its partition has the features, size or topology it asks for",
}

# reasons whose Why= the server words (its advice's "topology"); Resources when it names something (idle nodes other
# jobs' --exclusive=topo blocks hold, as hal explain says: QA, Why= said only "waits for nodes to free up")
SERVER_WORDS = ("Topology", "DataLocality", "Resources")

# scontrol's OverSubscribe= for --exclusive[=user|mcs|topo] (OK: shares nodes)
OVERSUBSCRIBE = {True: "NO", "user": "USER", "mcs": "MCS", "topo": "TOPO"}


def _lines(j: dict[str, Any], node_cpus: int = 0) -> list[str]:
    array = j.get("array_job_id")
    lines = [
        f"JobId={j.get('job_id', j['id'])}"
        + (f" ArrayJobId={array} ArrayTaskId={j['array_task_id']}" if array is not None else "")
        + f" JobName={j['name']}",
        f"   UserId={j['user']} Account={j['account'] or '(null)'} QOS={j['qos']}",
        f"   JobState={j['state']} Reason={j.get('reason') or 'None'} Cause={j['cause']}"
        + (f" QueuePosition={j['queue_position']}" if j.get("queue_position") else ""),
        f"   ExitCode={j['exit_code'] if j['exit_code'] is not None else 0}:{j['signal'] or 0}"
        f" Restarts={j['restarts']} Requeue={int(bool(j['requeue']))}",
        f"   RunTime={scontrol_time(whole_elapsed(j))} TimeLimit={scontrol_time(j['time_limit'])}"
        f" TimeMin={scontrol_time(j['time_min']) if j.get('time_min') else 'N/A'}",  # scontrol's 00:05:00
        f"   SubmitTime={stamp(j['submit_time'])}"
        f" EligibleTime={_eligible(j)}"
        f" StartTime={stamp(_start(j))} EndTime={stamp(_end(j))}",
        f"   Partition={j['partition']} NodeList={j['nodelist'] or '(null)'}"
        + (f" Features={'&'.join(j['features'])}" if j.get("features") else "")
        + f" ReqNodeList={compress(j.get('req_nodelist') or []) or '(null)'}"  # always, as scontrol (scripts grep)
        + f" ExcNodeList={compress(j.get('exclude') or []) or '(null)'}"
        + (f" ArrayTaskThrottle={j['array_limit']}" if j.get("array_limit") else ""),
        f"   NumNodes={num_nodes(j, node_cpus)}"
        f" NumTasks={j['req_tasks']} CPUs/Task={j.get('cpus_per_task', 1)}"
        f" ReqTRES={tres(j, node_cpus=node_cpus)}"
        + (f" AllocTRES={tres(j, allocated=True)}" if j.get("nodelist") else ""),
        *_tres_per(j),
        f"   Priority={_priority(j)} Nice={j.get('nice') or 0}"
        f" Dependency={','.join(j.get('dependencies') or []) or '(null)'}",
        f"   OverSubscribe={OVERSUBSCRIBE.get(j.get('exclusive') or False, 'OK')}",
        f"   WorkDir={j['workdir']}" + (f" Comment={j['comment']}" if j.get("comment") else ""),
        f"   StdOut={j['stdout_path'] or '(not started)'}",
        f"   StdErr={j['stderr_path'] or '(not started)'}",
        f"   StdIn={j.get('stdin_path') or '/dev/null'}",
    ]
    lines += _data_lines(j)
    if j["state"] == "PENDING":
        why = advice_for(j)
        reason = (j.get("reason") or "").split(",")[0]
        if reason == "Topology" or (reason in SERVER_WORDS and j.get("topology_why")):  # as hal explain (QA)
            from hal.cli.explain import topology_advice

            why = topology_advice(j, j.get("topology_why"))
        start = f"; planned start {stamp(j['predicted_start'])}" if j.get("predicted_start") else ""
        if start and j.get("predicted_start_p90"):
            start += f" (by {stamp(j['predicted_start_p90'])} at 90%)"
        if j.get("forecast_pending"):  # made in the background: not there yet, which is not "no forecast"
            start += "; its start forecast is still being computed (run hal show again in a few seconds)"
        lines.append(f"   Why={why}{start}")
    elif j["state"] == "CONFIGURING":
        lines.append("   Why=it holds its nodes while its --input-data are staged into their caches")
    elif j["state"] == "COMPLETING":
        lines.append(
            "   Why=it is being stopped (hal cancel or hal requeue): SIGTERM, then SIGKILL after the grace period"
        )
    elif j["state"] == "STAGE_OUT":
        lines.append("   Why=its processes ended; its --output-data are being copied out, then it ends")
    elif j["state"] == "RUNNING" and j.get("predicted_end"):
        lines.append(f"   PredictedEnd={stamp(j['predicted_end'])} ({_end_basis(j)})")
    return lines


def _tres_per(j: dict[str, Any]) -> list[str]:
    """scontrol's TresPerJob, TresPerNode and TresPerTask lines, each only when the job asked that way: how its
    GPUs (and CPUs per task) were asked, which ReqTRES's totals do not tell apart."""
    named = (("TresPerJob", "tres_per_job"), ("TresPerNode", "tres_per_node"), ("TresPerTask", "tres_per_task"))
    return [f"   {label}={j[key]}" for label, key in named if j.get(key)]


def _end_basis(j: dict[str, Any]) -> str:
    """What a running job's PredictedEnd rests on: a job with no time limit and no history is planned on a
    default run time, and the forecasts of the jobs behind it on that guess (QA: nothing said so)."""
    if j.get("runtime_assumed"):
        return (
            f"assumed: no time limit and no history, planned as a {duration(j['runtime_assumed'])} run;"
            " the forecasts of jobs behind it rest on it"
        )
    return "planner's forecast; the kill limit is TimeLimit"


def _data_lines(j: dict[str, Any]) -> list[str]:
    """Topology and data requests, and how each declared output's stage-out went."""
    lines = []
    place = j.get("placement_request") or {}
    if place:
        parts = []
        if "switches" in place:
            wait, real = place.get("switches_wait"), place.get("switches_wait_effective")
            text = f"Switches={place['switches']}" + (f"@{scontrol_time(wait)}" if wait is not None else "")
            if real is not None and real != wait:  # capped by max_switch_wait, or its default when none was asked
                text += f" (waits at most {scontrol_time(real)})"
            if place.get("switches_ignored"):  # as Slurm without topology/tree
                text += ' (ignored: the profile\'s placement is not "topology")'
            parts.append(text)
        parts += [f"Segment={place['segment']}"] if "segment" in place else []
        for kind in ("required", "preferred"):
            if place.get(f"topology_{kind}"):
                parts.append(f"Topology={kind}={place[f'topology_{kind}']}")
        lines.append("   " + " ".join(parts))
    if j.get("input_data") or j.get("output_data"):
        lines.append(
            f"   InputData={','.join(j.get('input_data') or []) or '(null)'}"
            f" OutputData={','.join(j.get('output_data') or []) or '(null)'}"
        )
    if j.get("stage_out") is not None:
        states = j["stage_out"]
        told = [f"{n}:{states.get(n, 'not staged')}" for n in j.get("output_data") or []]
        lines.append(f"   StageOut={' '.join(told)}")
    return lines


def show(
    words: Annotated[
        list[str],
        typer.Argument(help="job id (12, 12_3); scontrol's `job 12`, `hostnames LIST`, `hostlist LIST` work too"),
    ],
    json_out: bool = JsonOpt,
) -> None:
    """Everything HAL knows about one job (for an array id: each task; pending ones alike as one record).
    scontrol's `hal show hostnames LIST` (one name a line) and `hal show hostlist LIST` (compressed) read host
    lists."""
    try:
        lines = hostlist_form(words, os.environ)
    except HostlistError as exc:
        raise fail(str(exc)) from None
    if lines is not None:
        typer.echo("\n".join(lines))
        return
    if len(words) == 2 and words[0].lower() == "job":  # scontrol show job 12
        words = words[1:]
    if len(words) != 1:
        raise fail(f"show one job: hal show 12 (or hal show job 12), not {' '.join(words)!r}")
    job = words[0]
    wanted = _tasks_named(job)
    with client() as c:
        rec = c.get(job, start=True)  # 12_[2-3]: the listed tasks that exist, as an array's are
        tasks = queue_select.shown_states(rec.get("tasks") or [rec])  # a job being stopped: COMPLETING
        if wanted is not None:
            _say_missing(job, wanted, tasks)
        if any(j["state"] == "PENDING" for j in tasks):  # scontrol's Priority=: the multifactor one (hal prio)
            ranks = {p["job_id"]: p["priority"] for p in c.priority()["jobs"]}
            for j in [rec, *(rec.get("tasks") or [])]:
                j["priority"] = ranks.get(j.get("job_id"))
        if json_out:
            emit_json(rec)
            return
        held = [t for t in tasks if t["state"] == "PENDING" and (t.get("reason") or "").startswith(SERVER_WORDS)]
        if held:  # what holds it, in the server's words: an array's tasks share one request, so asked once
            why = c.advice(str(held[0]["id"]), topology_only=True).get("topology")
            for j in held:
                j["topology_why"] = why
        node_cpus = max((int(n.get("cpus", 0)) for n in c.nodes().get("nodes", [])), default=0)  # as hal queue
    for lines in records(tasks, lambda j: _lines(j, node_cpus)):
        _print(lines)


def _tasks_named(job: str) -> set[int] | None:
    """The task ids of ``12_[2-3]`` (scancel's form; scontrol takes one task), None for any other id; a list
    that names no tasks is refused in those terms, before asking (it was blamed on an --array option)."""
    try:
        found = task_list(job)
    except NotATaskList as exc:
        raise fail(str(exc)) from None
    return set(found[1]) if found is not None else None


def _say_missing(job: str, wanted: set[int], tasks: list[dict[str, Any]]) -> None:
    """The listed tasks the array lacks, said on stderr (the server answers with those that exist)."""
    missing = sorted(wanted - {t.get("array_task_id") for t in tasks})
    if missing:
        base = job.split("_")[0]
        err.print(f"hal show: no task {', '.join(f'{base}_{i}' for i in missing)}", markup=False, highlight=False)


def _print(lines: list[str]) -> None:
    """Piped, each Key=Value stays whole on its line (grep, awk), as scontrol prints it; folded in a terminal."""
    out.print("\n".join(lines), highlight=False, markup=False, soft_wrap=not out.is_terminal)
    out.print()


def _priority(j: dict[str, Any]) -> str:
    """A pending job's multifactor priority, rounded as sprio and hal queue's %Q; N/A for the others (the
    controller keeps none for jobs out of its queue) and under another ordering than multifactor."""
    return str(round(j["priority"])) if j.get("priority") is not None else "N/A"


def _start(j: dict[str, Any]) -> float | None:
    """When it started, or for a pending job its expected start (scontrol shows the backfill plan's; HAL's forecast
    p50, or the planner's start while the forecast is being made): Unknown when neither has one."""
    if j["state"] == "PENDING":
        return j.get("predicted_start")
    return j.get("start_time")


def _end(j: dict[str, Any]) -> float | None:
    """Its end, or while it runs or waits with an expected start the end its time limit sets (Slurm's EndTime:
    StartTime + TimeLimit). Unknown while it stages its inputs: its limit runs from the launch, not yet come (the
    allocation's StartTime + TimeLimit was already past behind a slow copy, though nothing would kill it)."""
    if j["state"] == "CONFIGURING":
        return None
    start = _start(j)
    if j.get("end_time") is None and j["state"] in ("RUNNING", "COMPLETING", "PENDING") and start:
        return float(start) + float(j["time_limit"]) if j.get("time_limit") else None
    return j.get("end_time")


WAITING_ON_OTHERS = ("Dependency", "DependencyNeverSatisfied", "JobHeldUser", "JobHeldAdmin")


def _eligible(j: dict[str, Any]) -> str:
    """When it could first start: Unknown while it waits for other jobs or a release (it showed the submit time)."""
    if j["state"] == "PENDING" and j.get("reason") in WAITING_ON_OTHERS:
        return "Unknown"
    return stamp(max(j["submit_time"], j.get("begin") or 0, j.get("released") or 0, j.get("eligible") or 0))


def advice_for(rec: dict[str, Any]) -> str:
    """Why a pending job waits, in words (hal show's Why=, hal explain's why:): a parked job's fix, else its
    reason's advice, looked up by its first word (``ReqNodeNotAvail, UnavailableNodes:vn001``)."""
    reason = (rec.get("reason") or "").split(",")[0]
    held = rec.get("cache_held") if reason == "CacheWait" else None  # not running jobs' inputs: kept outputs
    return parked_advice(rec) or held or data_wait_advice(rec, reason) or ADVICE.get(reason, "")


def data_wait_advice(rec: dict[str, Any], reason: str) -> str:
    """A dependency HAL added for an input's writer, said as such, or "" (QA: DependencyNeverSatisfied read "cancel
    it and resubmit" of a wait the user never typed, which the catalog holding the input ends by itself)."""
    waits = rec.get("data_waits") or {}
    if reason not in ("Dependency", "DependencyNeverSatisfied") or not waits:
        return ""
    added = "; ".join(
        f"afterok:{ref} was added, not typed: job {ref} writes its input {', '.join(names)}"
        for ref, names in waits.items()
    )
    if reason == "Dependency":
        return f"it waits for the jobs it depends on ({added})"
    job = rec.get("id")
    return (
        f"a job it depends on ended the wrong way ({added}); such a wait is met once the catalog holds that input (an "
        f"administrator's hal dataset add: the job goes on at once); hal update {job} Dependency= drops it (name any "
        f"dependency you typed), hal cancel {job} ends the job"
    )

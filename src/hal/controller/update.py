"""`hal update` (scontrol update job): change a queued job's request in place, keeping its id and its place
in the queue (its submit time, so its age), rather than cancel and resubmit; and a running job's time limit,
name, comment and requeue flag. Slurm's rules: only an administrator raises a time limit or sets a negative
nice, and the rest changes only while the job is pending. Every job named is checked before any changes,
so a refused update changes nothing."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from hal.controller.admission import admit, admit_data, resolve_deps, singleton_pairs
from hal.controller.array_split import mark
from hal.controller.array_throttle import throttle
from hal.controller.asked_limit import asked, keep
from hal.controller.auth import Identity
from hal.controller.column_text import MAX_ACCOUNT, column_problem
from hal.controller.contracts import Forbidden, SubmitError
from hal.controller.directives import MAX_NAME, JobRequest, StoredDep, parse_constraint
from hal.controller.gpu_respread import respread
from hal.controller.jobs import Live, dependencies, reaches, spec_of, waiting_since
from hal.controller.option_values import (
    DirectiveError,
    comment_option,
    hms,
    int_option,
    parse_begin,
    parse_dependency,
    parse_time,
    parse_time_min,
    scontrol_time,
    yes_no,
)
from hal.controller.parked import misfit, undefer
from hal.controller.placement_options import placement_options
from hal.controller.required_nodes import required_nodes
from hal.controller.update_fields import FIELDS, NAMES, SHOWN, SPREAD, WHILE_RUNNING
from hal.controller.update_priority import update_priority
from hal.engine.plugins.topology_refusal import segment_too_big
from hal.engine.predict.features import predicted_from as read
from hal.executors.hostlist import expand


def parse_fields(fields: dict[str, str], now: float) -> dict[str, Any]:
    """``{"TimeLimit": "+30"}`` into JobRequest attribute values, with the option parsers sbatch's use. A time
    limit with a leading + or - is a change of the current one (("+", seconds))."""
    out: dict[str, Any] = {}
    if not fields:
        raise SubmitError("nothing to update: give FIELD=VALUE, e.g. TimeLimit=1:00 (hal update --help)")
    for key, raw in fields.items():
        attr = FIELDS.get(key.lower().replace("_", ""))
        if attr is None:
            raise SubmitError(f"{key}: not a field hal update changes; it changes {', '.join(sorted(_shown()))}")
        value = str(raw).strip()
        try:
            out[attr] = _value(attr, key, value, now)
        except DirectiveError as exc:
            raise SubmitError(f"{key}={value}: {exc}") from None
    return out


def _shown() -> set[str]:
    return {"TimeLimit", "JobName", "Comment", "Requeue", "Partition", "QOS", "Account", "Nice", "StartTime"} | {
        "TimeMin", "Dependency", "NumNodes", "NumTasks", "Features", "ReqNodeList", "ExcNodeList", "ArrayTaskThrottle",
        "Switches", "Topology", "Segment",
    }  # fmt: skip


def _value(attr: str, key: str, value: str, now: float) -> Any:
    if attr == "time_min":
        return parse_time_min(value) if value.lower() not in ("", "none", "n/a") else None  # 0, none: no minimum
    if attr == "time_limit":
        if value[:1] in "+-" and value[1:]:
            step = parse_time(value[1:])
            return (value[0], step or 0.0)
        return parse_time(value)
    if attr == "array_limit":
        return int_option({key: value}, key, None, 0) or None  # 0: no limit
    if attr in ("nodes", "tasks"):
        return int_option({key: value}, key, None)
    if attr == "nice":
        return int_option({"nice": value}, "nice", 0, -10000)
    if attr == "begin":
        return parse_begin(value, now) if value and value.lower() not in ("now", "none") else None
    if attr == "dependencies":
        return parse_dependency(value) if value and value != "0" else []
    if attr == "features":
        return parse_constraint(value) if value else []
    if attr in ("node_names", "exclude_nodes"):
        try:
            return list(dict.fromkeys(expand(value))) if value else []
        except ValueError as exc:
            raise DirectiveError(str(exc)) from None
    if attr in SPREAD:  # sbatch's own parsers; "0", "none" or nothing drops the request
        if value.lower() in ("", "0", "none"):
            empty = {"switches": None, "switches_wait": None} if attr == "switches" else {}
            return empty or {"topology_required": "", "topology_preferred": ""}
        got = placement_options({attr: value})
        if attr == "switches":
            return {"switches": got["switches"], "switches_wait": got.get("switches_wait")}
        return {
            "topology_required": got.get("topology_required", ""),
            "topology_preferred": got.get("topology_preferred", ""),
        }
    if attr == "segment":  # as sbatch --segment: at least 1; empty (or none) drops it, as scontrol's empty values do
        if value.lower() in ("", "none"):
            return None  # it was refused naming --Segment='' while Switches= and Topology= cleared theirs (QA)
        try:
            return int_option({"segment": value}, "segment", None)  # 0 is refused as at submission (it dropped it)
        except DirectiveError as exc:
            raise DirectiveError(f"{exc} (Segment= with nothing after it drops the segment)") from None
    if attr == "requeue":
        return yes_no({"requeue": {"0": "no", "1": "yes"}.get(value, value)}, "requeue")
    if attr == "comment":
        return comment_option({"comment": value})
    if attr == "name" and (len(value) > MAX_NAME or any(ord(ch) < 32 for ch in value)):
        raise DirectiveError(f"at most {MAX_NAME} characters, no control characters")
    if attr == "account" and (why := column_problem("Account", value, MAX_ACCOUNT, controls=True)):
        raise DirectiveError(why)  # as at submission: PostgreSQL refused the write, a 500 (QA)
    return value


def update(ctl: Any, ref: str, who: Identity, fields: dict[str, str]) -> list[int]:
    """Apply ``fields`` to every job ``ref`` names that has not ended; returns their ids."""
    held = update_priority(ctl, ref, who, fields)  # Priority=0: a hold, as in Slurm
    if held is not None:
        return held
    changes = parse_fields(fields, ctl.clock())
    ids = ctl.resolve(ref)
    now = ctl.clock()
    with ctl.lock:
        rows = {r["id"]: r for r in ctl.store.query(job_ids=ids)}
        if any(not who.may_see(r["user"]) for r in rows.values()):
            raise Forbidden(f"job {ref} belongs to another user; you may update only your own jobs")
        staging = ctl.staging.staging if ctl.staging is not None else {}
        lives: list[Live] = [ctl.live[j] for j in ids if j in ctl.live]
        if not lives:
            states = sorted({str(r["state"]) for r in rows.values()})
            raise SubmitError(f"cannot update job {ref}: it has ended ({', '.join(states)})")
        running = [lv for lv in lives if lv.state != "PENDING" or lv.job_id in staging]
        if running and set(changes) - WHILE_RUNNING and "_" not in str(ref) and len(running) < len(lives):
            lives, running = [lv for lv in lives if lv not in running], []  # an array: its pending tasks, as scontrol
        if running and set(changes) - WHILE_RUNNING:
            extra = sorted(SHOWN.get(k, k) for k in set(changes) - WHILE_RUNNING)  # as typed (QA: exclude_nodes)
            raise SubmitError(
                f"job {_ref(running[0])} is no longer pending execution: only "
                f"{', '.join(NAMES.values())} change once it runs (not {', '.join(extra)})"
            )
        if "array_limit" in changes and "_" in str(ref):
            raise SubmitError(f"ArrayTaskThrottle applies to a whole array: update {str(ref).split('_')[0]}, not {ref}")
        if running and "time_limit" in changes and not hasattr(ctl.executor, "retime"):
            raise SubmitError(f"job {_ref(running[0])} runs on an executor that cannot change its time limit")
        if changes.get("nice", 0) < 0 and not who.admin:
            raise Forbidden("Nice below 0 raises a job's priority: only an administrator may set it")
        planned = [(lv, _changed(ctl, lv, changes, who, now)) for lv in lives]  # every check before any change
        said = f"{' '.join(f'{k}={v}' for k, v in fields.items())} by {who.user}"
        records = [_record(ctl, lv, req, deps, rows[lv.job_id], ref, lv in running) for lv, (req, deps) in planned]
        with ctl.store.engine.begin() as conn, ctl.store.batched(conn):  # one statement, not one a task
            for (lv, _), (_stored, values) in zip(planned, records, strict=True):
                ctl.store.update_job(conn, lv.job_id, values, (lv.job_id, now, "UPDATE", said))
        # committed: only now does the running scheduler change (QA: a commit that failed left the job on its new
        # time limit, or released into the engine, while the store kept the old request and the caller got 503)
        for (lv, (req, deps)), (stored, _values) in zip(planned, records, strict=True):
            _apply(ctl, lv, req, deps, stored, now, lv in running)
        if "array_limit" in changes:
            throttle(ctl, lives, changes["array_limit"], now)
        ctl.wake.set()
    return [lv.job_id for lv in lives]


def _one_per_node(req: JobRequest) -> bool:
    """Whether a job's tasks are sbatch's default for -N without -n or --ntasks-per-node: one on each node."""
    return req.nodes is not None and req.tasks == req.nodes and "SLURM_NTASKS_PER_NODE" not in req.env


def _changed(
    ctl: Any, lv: Live, changes: dict[str, Any], who: Identity, now: float
) -> tuple[JobRequest, list[StoredDep] | None]:
    """The job's new request (checked as a submission is) and its new dependencies (None: unchanged)."""
    attrs = {k: v for k, v in changes.items() if k not in ("dependencies", "time_limit", *SPREAD)}
    for field in SPREAD:
        attrs.update(changes.get(field, {}))
    old = lv.request.time_limit
    if "time_limit" in changes:
        limit = changes["time_limit"]
        if isinstance(limit, tuple):
            if old is None:
                raise SubmitError(
                    f"job {_ref(lv)} has no time limit (TimeLimit=UNLIMITED) to change by "
                    f"{limit[0]}{scontrol_time(limit[1])}"
                )
            sign, step = limit
            limit = old + step if sign == "+" else old - step
            if limit <= 0:  # quoted as scontrol prints times (it said -2400 s)
                left = scontrol_time(limit) if limit >= 0 else f"-{scontrol_time(-limit)}"
                raise SubmitError(
                    f"job {_ref(lv)}: TimeLimit={scontrol_time(old)} less {scontrol_time(step)} would be {left}; "
                    "a time limit must stay above 00:00:00"
                )
        attrs["time_limit"], attrs["time_unlimited"] = limit, limit is None
        attrs["time_lowered"], attrs["time_asked"] = False, None  # set by hand: no --time-min cut moves it any more
        attrs["time_cut"] = None
        raised = (limit is None and old is not None) or (limit is not None and old is not None and limit > old)
        if raised and not who.admin:
            raise Forbidden(f"job {_ref(lv)}: only an administrator may raise a time limit (now {scontrol_time(old)})")
    minimum = attrs.get("time_min", lv.request.time_min)
    limit_now = attrs.get("time_limit", old)
    if minimum is not None and limit_now is not None and minimum > limit_now:  # Slurm's "Invalid time-min"
        raise SubmitError(
            f"job {_ref(lv)}: invalid --time-min specification: TimeMin={scontrol_time(minimum)} exceeds TimeLimit="
            f"{scontrol_time(limit_now)}"
        )
    if "partition" in attrs:  # a new list as given: admit narrows it afresh
        attrs["partition_asked"] = ""
    if "nodes" in attrs and "tasks" not in attrs and _one_per_node(lv.request):
        attrs["tasks"] = attrs["nodes"] or 1  # -N without -n: its tasks were one a node, so they scale with the nodes
    req = dataclasses.replace(lv.request, **attrs)
    if "nodes" in attrs and req.tasks < (req.nodes or 1):
        raise SubmitError(f"job {_ref(lv)}: NumNodes={req.nodes} with NumTasks={req.tasks}; set NumTasks too")
    if "tasks" in attrs and req.tasks < (req.nodes or 1):
        raise SubmitError(f"job {_ref(lv)}: NumTasks={req.tasks} with NumNodes={req.nodes}; set NumNodes too")
    try:  # a --gpus total stays the job's, over its new tasks (controller/gpu_respread.py)
        req = respread(req) if "nodes" in attrs or "tasks" in attrs else req
    except DirectiveError as exc:
        raise SubmitError(f"job {_ref(lv)}: {exc}") from None
    if req.segment and req.segment <= (req.nodes or 1) and (req.nodes or 1) % req.segment:  # refused as by sbatch
        refused = segment_too_big(ctl.book, req.segment) or (
            f"NumNodes={req.nodes} is not a multiple of its --segment={req.segment} (each group of "
            f"{req.segment} nodes stays inside one block)"
        )
        raise SubmitError(f"job {_ref(lv)}: {refused}")
    if set(req.node_names) & set(req.exclude_nodes):
        raise SubmitError(f"job {_ref(lv)}: ReqNodeList and ExcNodeList name the same node")
    req = required_nodes(req, attrs, _ref(lv))  # every listed node in its allocation: no more than NumNodes
    if "array_limit" in attrs and lv.array_job_id is None:
        raise SubmitError(f"job {_ref(lv)} is not an array task: ArrayTaskThrottle applies to arrays")
    unknown = sorted(set(req.node_names) - set(ctl.table.names))
    if unknown:
        raise SubmitError(f"job {_ref(lv)}: ReqNodeList names nodes that do not exist: {', '.join(unknown[:5])}")
    if lv.state != "PENDING" and "time_limit" in attrs:  # the partition it runs in bounds it, as a pending job's
        top = ctl.machine.cluster.partition(lv.partition).max_time if lv.partition else None
        if top is not None and (attrs["time_limit"] is None or attrs["time_limit"] > top):
            raise SubmitError(f"job {_ref(lv)}: PartitionTimeLimit: at most {hms(top)} in partition {lv.partition}")
    if lv.state == "PENDING":
        try:
            admit(req, ctl.machine.cluster)
        except SubmitError as exc:
            raise SubmitError(f"job {_ref(lv)}: {exc}") from None
    deps = None
    if "dependencies" in changes:
        pairs = list(changes["dependencies"])
        if ("singleton", "") in pairs:  # the user's other unended jobs of that name that do not wait for this one
            same = [j for j, o in ctl.live.items() if o.user == lv.user and o.request.name == req.name]
            same = [j for j in same if j != lv.job_id and not reaches(ctl.live, [j], lv.job_id)]
            pairs = singleton_pairs(pairs, same)
        req.dependencies = pairs  # as typed (hal show), next to the resolved ids the engine gets
        if req.inputs and ctl.staging is not None:  # an input's writer stays an afterok, as at submission
            admit_data(req, ctl.staging, {j: o for j, o in ctl.live.items() if j != lv.job_id}, lv.user)
            pairs = req.dependencies
        deps = resolve_deps(ctl.store, pairs)
        if any(d[1] == lv.job_id for d in deps):
            raise SubmitError(f"job {_ref(lv)} cannot depend on itself")
        if reaches(ctl.live, [d[1] for d in deps], lv.job_id):  # Slurm's ESLURM_CIRCULAR_DEPENDENCY
            raise SubmitError(f"circular dependency: job {_ref(lv)} would wait for jobs that wait for it")
    if lv.state == "PENDING":
        try:
            spec = spec_of(lv.job_id, req, lv.user, now, ())
        except ValueError as exc:  # the engine's own checks of a job: a refusal, never a server error
            raise SubmitError(f"cannot apply that update: {exc}") from None
        why = misfit(ctl, spec)  # a parked job (hal/controller/parked.py) leaves only for a request that fits
        if why is not None and misfit(ctl, lv.spec) == why:  # parked before, for the same reason (QA: it read as
            raise SubmitError(  # if the update were at fault)
                f"job {_ref(lv)} is parked and would stay so: {why}; an update of a parked job must make it fit"
            )
        if why is not None:
            raise SubmitError(f"job {_ref(lv)} could never run on this cluster after that update: {why}")
    return req, deps


def _record(
    ctl: Any, lv: Live, req: JobRequest, deps: list[StoredDep] | None, row: dict[str, Any],
    ref: str, running: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The job's stored request and the columns its record takes, from memory as it still is (nothing changes
    until they are committed). An array task ``ref`` names by itself leaves its array's line in hal queue
    (controller/array_split.py)."""
    stored = json.loads(row["request"])
    for key, value in _stored_fields(req):
        if stored.get(key) != value:
            stored[key] = value
    mark(stored, ref, lv.array_job_id)
    keep(stored, lv.spec, req)  # through a restart
    if deps is not None:  # met again only once the new ones are (its EligibleTime, where its waits start)
        stored["_deps"] = deps
        stored.pop("_eligible", None)
    values = {
        "request": json.dumps(stored, separators=(",", ":")),
        "name": req.name, "account": req.account, "partition": req.partition, "qos": req.qos,
        "time_limit": req.time_limit, "req_nodes": req.nodes, "req_tasks": req.tasks,
        "req_cpus": req.tasks * req.cpus_per_task, "req_mem_mb": req.requested()[0],
        "req_gpus": req.requested()[1], "requeue": req.requeue,
    }  # fmt: skip
    act = ctl.sched.running.get(lv.job_id) if running else None
    if act is not None and req.time_limit != lv.request.time_limit:
        end = _planned_end(act.start, act.predicted_end, lv.request.time_limit, req.time_limit)
        if end != act.predicted_end:
            values["predicted_end"] = end
    return stored, values


def _apply(
    ctl: Any, lv: Live, req: JobRequest, deps: list[StoredDep] | None, stored: dict[str, Any],
    now: float, running: bool,
) -> None:  # fmt: skip
    """Once recorded, change the engine's view: a running job's planned end, or a pending job re-entered."""
    old_limit, lv.request, lv.requeue = lv.request.time_limit, req, req.requeue
    dep_objs = dependencies(deps, lv.array_task_id) if deps is not None else lv.spec.dependencies
    spec = spec_of(lv.job_id, req, lv.user, lv.spec.submit_time, dep_objs, lv.spec.batch)
    spec = dataclasses.replace(spec, held=lv.spec.held, asked_limit=(mine := asked(lv.spec, req)))
    spec = waiting_since(spec, stored)  # its --switches wait counts on from its release (its dependencies met)
    if running:
        act = ctl.sched.running.get(lv.job_id)
        if act is not None and req.time_limit != old_limit:
            end = _planned_end(act.start, act.predicted_end, old_limit, req.time_limit)
            upper = act.item.upper if req.time_limit is None else min(act.item.upper, req.time_limit)
            if req.time_limit is not None and act.item.upper >= (old_limit or math.inf) - 1.0:
                upper = req.time_limit  # the forecasts read the item's estimate and upper, not only the plan
            spec = dataclasses.replace(act.item.spec, time_limit=req.time_limit, asked_limit=mine)
            est = end - act.start
            act.item = dataclasses.replace(act.item, spec=spec, estimate=est, upper=max(upper, est))
            if end != act.predicted_end:
                ctl.sched.extend(lv.job_id, end)
        lv.spec = dataclasses.replace(lv.spec, time_limit=req.time_limit, name=req.name, asked_limit=mine)
        if req.time_limit != old_limit:
            ctl.executor.retime(lv.job_id, req.time_limit)  # False: it ended meanwhile (its end event follows)
        return
    before, lv.spec = lv.spec, spec
    if lv.job_id in ctl.gated:
        return  # it enters the engine later, as it is now
    if ctl.deferred.pop(lv.job_id, None) is None:  # deferred: its dependencies are checked again below
        ctl.sched.withdraw(lv.job_id)
        if (forget := getattr(ctl.sched.predictor, "forget", None)) is not None and read(before) != read(spec):
            forget(lv.job_id)  # predicted again from what it runs with; else as at its submission, as after a restart
    ctl._to_engine(lv, now)  # a parked job is tried again: it fits now
    if ctl.deferred:  # jobs that waited for it while it was parked
        undefer(ctl, now)


UNSTORED = ("script", "env", "array")  # a task's row keeps no array (its index is its own) and may share the rest


def _stored_fields(req: JobRequest) -> list[tuple[str, Any]]:
    """A task's stored fields, not copied: ``to_dict`` deep-copied each task's whole ``array`` (square cost)."""
    return [(f.name, getattr(req, f.name)) for f in dataclasses.fields(req) if f.name not in UNSTORED]


def _ref(lv: Live) -> str:
    """A job as Slurm prints it: an array task as 12_3, not its internal id."""
    return f"{lv.array_job_id}_{lv.array_task_id}" if lv.array_job_id is not None else str(lv.job_id)


def _planned_end(start: float, planned: float, old: float | None, new: float | None) -> float:
    """A plan on the old limit follows the new one; a predicted end stays, but never past the new limit."""
    if new is None:
        return planned
    on_limit = old is None or planned >= start + old - 1.0
    return start + new if on_limit else min(planned, start + new)

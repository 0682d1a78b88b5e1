"""Whether a submission under a used idempotency key is a retry of the first one: what differs, if anything.

A retry sends the same body, so every field the submitter chose is compared with the first job's stored request
(QA: another array range, dependency, environment, workdir or hold under a used key was answered with the first
jobs, and the new work never ran). Left out are the values the server works out afresh at each submission or
changes later on its own: those would refuse a genuine retry.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from hal.controller.directives import JobRequest
from hal.controller.store import jobs

SAME_REQUEST = ("script", "name", "account", "partition", "partition_asked", "qos", "nodes", "tasks",
                "cpus_per_task", "mem_per_task_mb", "gpus_per_task", "mem_per_node_mb", "gpus_per_node",
                "gpus_per_job", "cpus_per_gpu", "gpu_kind", "time_limit", "time_unlimited", "time_min",
                "dependencies", "array", "array_limit", "requeue", "exclusive", "nice", "workdir", "output", "error",
                "input", "env", "inputs", "outputs", "switches", "switches_wait", "segment", "topology_required",
                "topology_preferred", "hold", "features", "node_names", "exclude_nodes", "args", "comment",
                "open_mode", "kill_invalid_dep", "signal")  # fmt: skip

NOT_COMPARED = (
    "begin",  # --begin=now+60 resolves to another time at each submission
    "time_lowered", "time_asked", "time_cut",  # backfill's cut of time_limit: the asked one is compared
    "hold_admin",  # an administrator's hold, set after submission
    "gpus_asked", "notes",  # worked out from options that are compared
    "test_only",  # a --test-only submission is never stored
    "data_waits",  # the afterok on an input's writer the data plane adds (compared without it, _asked_deps)
)  # fmt: skip

HOLD_CAUSES = ("held by ", "released by ")  # hal hold/release rewrite the stored hold (controller/holds.py)


def differing(store: Any, conn: Any, first: int, count: int, req: JobRequest) -> list[str]:
    """The fields of ``req`` that differ from the submission stored as jobs ``first`` .. ``first + count - 1``."""
    row = store.get(first)
    if row is None:  # nothing left to compare with: the key answers its jobs, as it did
        return []
    stored: dict[str, Any] = json.loads(row["request"])
    new: dict[str, Any] = json.loads(json.dumps(req.to_dict()))  # tuples as lists, as stored
    if stored.get("time_lowered"):  # backfill lowered it at the start: the --time asked is time_asked
        stored["time_limit"] = stored.get("time_asked")
    stored["dependencies"] = _asked_deps(store, stored.get("dependencies", new["dependencies"]), req.inputs)
    new["dependencies"] = _asked_deps(store, new["dependencies"], req.inputs)
    stored["array"] = _task_ids(conn, first, count) if row.get("array_job_id") is not None else None
    differ = [k for k in SAME_REQUEST if stored.get(k, new[k]) != new[k]]
    if "hold" in differ and _held_or_released(store, first):  # held or released since: the stored hold is not asked
        differ.remove("hold")
    if "env" in differ and len(differ) > 1 and _only_slurm_vars(stored.get("env", {}), new["env"]):
        differ.remove("env")  # SLURM_ARRAY_TASK_COUNT and the like, set from the options named
    return differ


def _only_slurm_vars(old: dict[str, str], new: dict[str, str]) -> bool:
    """Whether the environments differ only in SLURM_ variables (request_env sets them from the options)."""
    return all(k.startswith("SLURM_") for k in set(old) ^ set(new) | {k for k in old if k in new and old[k] != new[k]})


def _task_ids(conn: Any, first: int, count: int) -> list[int]:
    """An array submission's task ids, in the order given (its rows' ids follow it)."""
    q = sa.select(jobs.c.array_task_id).where(jobs.c.id.between(first, first + count - 1)).order_by(jobs.c.id)
    return [int(t) for (t,) in conn.execute(q) if t is not None]


def _asked_deps(store: Any, deps: list[list[str]], inputs: list[str]) -> list[list[str]]:
    """Dependencies as the submitter gave them: singleton's resolved jobs (the user's unfinished jobs of that name
    at each submission, the first one's own job among them at a retry) as one "singleton", and without the
    afterok on a writer of one of ``inputs`` the data plane adds while that writer has not published it."""
    out: list[list[str]] = []
    for kind, ref in deps:
        if kind == "singleton":
            if ["singleton", ""] not in out:
                out.append(["singleton", ""])
        elif not (kind == "afterok" and inputs and _writes(store, ref, inputs)):
            out.append([kind, ref])
    return out


def _writes(store: Any, ref: str, inputs: list[str]) -> bool:
    """Whether job ``ref`` (a plain id, as the data plane adds it) declares one of ``inputs`` as its output."""
    if not ref.isdigit():
        return False
    row = store.get(int(ref))
    outputs = json.loads(row["request"]).get("outputs", []) if row is not None else []
    return bool(set(outputs) & set(inputs))


def _held_or_released(store: Any, job_id: int) -> bool:
    return any(str(e.get("cause") or "").startswith(HOLD_CAUSES) for e in store.events_of(job_id))


def refusal(key: str, differ: list[str]) -> str:
    """The message naming what differs (every field, so one fix is enough)."""
    what = differ[0] if len(differ) == 1 else ", ".join(differ[:-1]) + " and " + differ[-1]
    verb = "differs" if len(differ) == 1 else "differ"
    return f"idempotency key {key!r} was used for another request (its {what} {verb})"

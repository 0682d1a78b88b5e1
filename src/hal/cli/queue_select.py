"""Which jobs `hal queue` lists: squeue's -j, -n and -w filters, and its answer for job ids it does not know.

squeue asks the controller for a single -j id by itself, so an id it does not hold (never submitted, or ended
longer ago than MinJobAge) is ``slurm_load_jobs error: Invalid job id specified`` and exit 1, not an empty
table; of several ids it lists the ones it holds. HAL's queue holds ended jobs for 5 minutes, as hal queue -t
all shows them, so "known" is the same view: waiting, running, or ended in the last 5 minutes.
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hal.cli import live
from hal.executors.hostlist import expand

_JOB_ID = re.compile(r"(\d+)(?:_(\d+))?(?:\.[A-Za-z0-9]+)?")  # a step's suffix (12.0, 12.batch) names its job


@dataclass(frozen=True)
class JobId:
    """A -j item: a job (or a whole array, by its id), or one array task (``12_3``)."""

    job: int
    task: int | None = None


def parse_job_ids(text: str) -> list[JobId]:
    """``12,13_2`` into ids (``12.0``, ``12.batch``: job 12, as squeue reads a step's id); anything else is
    squeue's ``Invalid job id: abc`` (it was an empty table)."""
    ids = []
    for part in (x.strip() for x in text.split(",") if x.strip()):
        m = _JOB_ID.fullmatch(part)
        if m is None or int(m.group(1)) <= 0:
            raise ValueError(f"Invalid job id: {part}")
        ids.append(JobId(int(m.group(1)), int(m.group(2)) if m.group(2) is not None else None))
    if not ids:
        raise ValueError(f"Invalid job id: {text!r}")
    return ids


def wanted(job: dict[str, Any], ids: Iterable[JobId]) -> bool:
    """squeue's match: 12 is job 12 or every task of array 12 (a task is also its own job id); 12_3 is that task."""
    for i in ids:
        if i.task is None and i.job in (job["job_id"], job.get("array_job_id")):
            return True
        if i.task is not None and i.job == job.get("array_job_id") and i.task == job.get("array_task_id"):
            return True
    return False


UNKNOWN_IDS = (  # when none of the ids is in the queue's view (every state, ended in the last 5 minutes)
    "Invalid job id specified (not waiting, running or ended in the last 5 minutes; hal history -j ID lists "
    "jobs that ended before)"
)


def parse_nodes(text: str) -> set[str]:
    """squeue -w's host list: ``vn[000-001],vn003``."""
    try:
        names = set(expand(text))
    except ValueError as exc:
        raise ValueError(f"{text!r} invalid entry for --nodelist: {exc}") from None
    if not names:
        raise ValueError(f"{text!r} invalid entry for --nodelist: it names no node")
    return names


def on_nodes(job: dict[str, Any], nodes: set[str]) -> bool:
    """A job allocated any of ``nodes``, as squeue -w picks them (a pending job has none)."""
    return bool(job.get("nodelist")) and not nodes.isdisjoint(expand(job["nodelist"]))


def parse_names(text: str) -> set[str]:
    return {x.strip().lower() for x in text.split(",") if x.strip()}


def named(job: dict[str, Any], names: set[str]) -> bool:
    """squeue -n compares names without regard to case."""
    return str(job["name"]).lower() in names


def user_names(text: str) -> list[str]:
    """squeue -u's list: names, or uids (``-u 0``) as the local account's name; an unknown uid is ``Invalid
    user: 12345``, as squeue says it."""
    names = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        if item.isdigit():
            try:
                item = pwd.getpwuid(int(item)).pw_name
            except KeyError:
                raise ValueError(f"Invalid user: {item}") from None
        names.append(item)
    if not names:
        raise ValueError(f"Invalid user: {text!r}")
    return names


def unknown_user(names: Iterable[str], known: set[str]) -> str | None:
    """squeue's ``Invalid user: nosuch`` (exit 1; it listed an empty table): a name that is neither a local
    account nor one HAL knows (``known``: the caller, and every user with usage or a job in the queue)."""
    for name in names:
        if name in known:
            continue
        try:
            pwd.getpwnam(name)
        except KeyError:
            return f"Invalid user: {name}"
    return None


def parse_list(text: str | None) -> set[str] | None:
    """squeue -A and -q's comma-separated list, read once per command (not once per job); None: not given."""
    return None if text is None else {x.strip().lower() for x in text.split(",") if x.strip()}


def in_list(value: Any, wanted: set[str] | None) -> bool:
    """squeue -A and -q: any of the list (``parse_list``), without regard to case; a job without one matches none."""
    if wanted is None:
        return True
    return bool(value) and str(value).lower() in wanted


def other_cluster(clusters: str, local: str) -> str | None:
    """squeue -M: HAL's server is one cluster, so this one's name (or ``all``) lists it and another is an error."""
    for name in (x.strip() for x in clusters.split(",") if x.strip()):
        if name.lower() != "all" and name != local:
            return f"'{name}' can't be reached: this server is cluster '{local}' and HAL serves only its own"
    return None


STOPPING = ("CG", "COMPLETING")  # squeue's names for a job whose processes are being stopped


def shown_states(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A running job a cancel or requeue is stopping (its record's ``completing``) as squeue shows it: COMPLETING,
    CG, from the moment it was asked until its processes are gone (the grace period), not R."""
    for j in jobs:
        if j.get("completing") and j["state"] in ("RUNNING", "CONFIGURING"):
            j["state"] = "COMPLETING"
    return jobs


def parse_states(text: str | None) -> tuple[str | None, set[str] | None]:
    """squeue -t: the states live.parse_states reads, and CG/COMPLETING, asked of the API as RUNNING and kept as
    shown (``shown_states``). As in squeue, -t CG lists only the jobs being stopped and -t R leaves them out."""
    names = [x.strip() for x in (text or "").split(",") if x.strip()]
    if not any(n.upper() in STOPPING for n in names):
        return live.parse_states(text)
    rest = [n for n in names if n.upper() not in STOPPING]
    api, keep = live.parse_states(",".join(rest)) if rest else ("", set())
    if keep is None:  # -t all,CG
        return None, None
    return ",".join(sorted({*filter(None, (api or "").split(",")), "RUNNING"})), {*keep, "COMPLETING"}


ENV = {"user": "SQUEUE_USERS", "state": "SQUEUE_STATES", "partition": "SQUEUE_PARTITION", "names": "SQUEUE_NAMES",
       "account": "SQUEUE_ACCOUNT", "qos": "SQUEUE_QOS", "sort": "SQUEUE_SORT"}  # fmt: skip


def from_env(given: dict[str, Any]) -> dict[str, Any]:
    """squeue's environment defaults for options not given: SQUEUE_USERS, _STATES, _PARTITION, _NAMES, _ACCOUNT,
    _QOS, _SORT, SQUEUE_ARRAY (-r), SQUEUE_ARRAY_UNIQUE; and SQUEUE_FORMAT (else SQUEUE_FORMAT2, for -O) unless
    -o, -O, -l, --start or -s is given."""
    out = dict(given)
    for key, var in ENV.items():
        if out.get(key) is None and os.environ.get(var):
            out[key] = os.environ[var]
    for key, var in (("every_task", "SQUEUE_ARRAY"), ("array_unique", "SQUEUE_ARRAY_UNIQUE")):
        out[key] = out[key] or bool(os.environ.get(var))
    if out["fmt"] is None and out["long_fmt"] is None and not (out["long"] or out["start"]) and not out["steps"]:
        if os.environ.get("SQUEUE_FORMAT"):
            out["fmt"] = os.environ["SQUEUE_FORMAT"]
        elif os.environ.get("SQUEUE_FORMAT2"):
            out["long_fmt"] = os.environ["SQUEUE_FORMAT2"]
    return out

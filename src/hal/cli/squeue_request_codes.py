"""squeue -o codes read from a job's request (%E %f %h %k %n %x %c %y), its owner's local account (%U %g %G), its
allocation (%B) and priority (%p), and the codes for what HAL has no concept of, printed as squeue prints an unset
value: %o (HAL keeps a script's text, not its path), %v (no reservations), %w (no WCKeys), %d (no --tmp), %s
(cons_tres's select data: nothing, header too), %z (no sockets:cores:threads requests: squeue's ``*:*:*``).
squeue prints an unset string as ``(null)``, an unset node list (%x) as nothing; a name with no local account has
no uid or group, shown N/A.
"""

from __future__ import annotations

import grp
import pwd
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from hal.executors.hostlist import compress, expand

DETAIL = frozenset(("E", "f", "h", "k", "n", "x", "y", "{reqswitch}", "{wait4switch}"))  # need GET /v1/jobs?detail=true
OVERSUBSCRIBE = {True: "NO", "user": "USER", "mcs": "MCS", "topo": "TOPO"}  # Slurm's job_share_string
NULL = "(null)"  # what squeue's printf shows for an unset string


@lru_cache(maxsize=1024)  # one passwd lookup per user, not one per job and code (%U, %g, %G)
def _account(user: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(user)
    except KeyError:
        return None


def _uid(j: dict[str, Any]) -> str:
    acct = _account(str(j["user"]))
    return str(acct.pw_uid) if acct is not None else "N/A"


def _gid(j: dict[str, Any]) -> str:
    acct = _account(str(j["user"]))
    return str(acct.pw_gid) if acct is not None else "N/A"


def _group(j: dict[str, Any]) -> str:
    """squeue's %g: the group's name, its number when the group has none."""
    acct = _account(str(j["user"]))
    if acct is None:
        return "N/A"
    return _group_name(acct.pw_gid)


@lru_cache(maxsize=1024)
def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name or str(gid)
    except KeyError:
        return str(gid)


def _dependency(j: dict[str, Any]) -> str:
    """squeue's %E: the dependencies still to be met, each with its own state, (unfulfilled) or (failed) once it can
    never be (the server judges each: controller/remaining_deps.py); (null) when there are none left (met, or the
    job no longer waits). A server without that judgement: each marked from the job's reason."""
    if "dependencies_remaining" in j:
        left = j["dependencies_remaining"] or []
        return ",".join(f"{d['dependency']}({d['state']})" for d in left) or NULL
    deps = j.get("dependencies") or []
    if j.get("state") != "PENDING" or not deps or j.get("eligible"):
        return NULL
    mark = "(failed)" if j.get("reason") == "DependencyNeverSatisfied" else "(unfulfilled)"
    return ",".join(f"{d}{mark}" for d in deps)


def _min_cpus(j: dict[str, Any]) -> str:
    """squeue's %c (pn_min_cpus): the CPUs of one task, the least a node must have for the job."""
    per_task = j.get("cpus_per_task")
    if per_task:
        return str(per_task)
    return str(max(int(j.get("req_cpus") or 1) // max(int(j.get("req_tasks") or 1), 1), 1))


def _priority(j: dict[str, Any]) -> str:
    """squeue's %p: the priority as a fraction of 2^32-1, printed %16.14f."""
    prio = j.get("priority")
    return "N/A" if prio is None else f"{float(prio) / 0xFFFFFFFF:16.14f}"


def _batch_host(j: dict[str, Any]) -> str:
    """squeue's %B: the node that runs the batch script, the allocation's first; n/a before it has one."""
    return expand(j["nodelist"])[0] if j.get("nodelist") else "n/a"


def _req_switch(j: dict[str, Any]) -> str:
    """squeue -O ReqSwitch: the --switches count asked for, 0 without one."""
    return str(int((j.get("placement_request") or {}).get("switches") or 0))


def _wait4switch(j: dict[str, Any]) -> str:
    """squeue -O Wait4Switch: how long the job may wait for that count (its @maxwait capped by the server's
    max_switch_wait), as Slurm's secs2time_str prints it ([D-]HH:MM:SS); 00:00:00 without --switches."""
    place = j.get("placement_request") or {}
    secs = int(place.get("switches_wait_effective") or 0) if place.get("switches") else 0
    days, rest = divmod(secs, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{clock}" if days else clock


CODES: dict[str, Callable[[dict[str, Any]], str]] = {
    "B": _batch_host, "c": _min_cpus, "d": lambda j: "0", "E": _dependency,
    "f": lambda j: "&".join(j.get("features") or []) or NULL, "g": _group, "G": _gid,
    "h": lambda j: OVERSUBSCRIBE.get(j.get("exclusive") or False, "OK"), "k": lambda j: j.get("comment") or NULL,
    "o": lambda j: NULL, "p": _priority, "s": lambda j: "", "U": _uid, "v": lambda j: NULL, "w": lambda j: NULL,
    "n": lambda j: compress(j.get("req_nodelist") or []),
    "x": lambda j: compress(j.get("exclude") or []), "y": lambda j: str(int(j.get("nice") or 0)),
    "z": lambda j: "*:*:*", "{reqswitch}": _req_switch, "{wait4switch}": _wait4switch,
}  # fmt: skip
HEADERS = {
    "B": "EXEC_HOST", "c": "MIN_CPUS", "d": "MIN_TMP_DISK", "E": "DEPENDENCY", "f": "FEATURES", "g": "GROUP",
    "G": "GROUP", "h": "OVER_SUBSCRIBE", "k": "COMMENT", "n": "REQ_NODES", "o": "COMMAND", "p": "PRIORITY",
    "s": "", "U": "UID", "v": "RESERVATION", "w": "WCKEY", "x": "EXC_NODES", "y": "NICE", "z": "S:C:T",
    "{reqswitch}": "REQ_SWITCH", "{wait4switch}": "WAIT4SWITCH",
}  # fmt: skip
LONG = {  # squeue -O's names for them
    "batchhost": "B", "mincpus": "c", "mintmpdisk": "d", "dependency": "E", "feature": "f", "groupname": "g",
    "groupid": "G", "oversubscribe": "h", "comment": "k", "command": "o", "selectjobinfo": "s", "userid": "U",
    "reservation": "v", "wckey": "w", "reqnodes": "n", "excnodes": "x", "nice": "y", "sct": "z",
    "reqswitch": "{reqswitch}", "wait4switch": "{wait4switch}",
}  # fmt: skip

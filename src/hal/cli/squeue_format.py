"""squeue's ``-o/--format`` codes (``%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R``) over HAL's job records.

A code is ``%[.|-][width]letter``: a width pads (and cuts) the value, left-justified unless ``.``
right-justifies it, as squeue does; ``-`` says left-justified outright, as printf users write it (squeue's own
parser reads only ``.`` and prints ``%-6D`` as it stands, with an error). Text between codes is kept, so ``-h -o
%T`` prints bare states for a script to read; a ``%`` that starts no code (``% i``, a trailing ``%``) is refused,
as an unknown code is. %b is the GPUs asked per node (--gres, --gpus-per-node), as squeue's; %m is per node,
or for a --mem-per-cpu job the per-CPU value, in MB unless a larger unit is exact (1500M, 4G), as squeue prints it.
A -O field with no -o letter (every letter is one of squeue's) is written %{name}, e.g. %{timemin} for TimeMin;
-O tres-per-job, tres-per-task (the record's Slurm strings), tres-alloc (AllocTRES, ReqTRES until it has nodes)
and NumTasks are such fields, and Gres is squeue's old name for tres-per-node (%b).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len, set_cell_size

from hal.cli import squeue_request_codes as extra
from hal.cli.live import SHORT_STATE, duration, stamp, tres, whole_elapsed
from hal.executors.hostlist import expand

CODE = re.compile(r"%([.-]?)(\d*)([A-Za-z%]|\{[a-z0-9]+\})")  # %{timemin}: an -O field squeue has no letter for
PIECE = re.compile(CODE.pattern + "|%")  # a bare % where no code could be read
MAX_WIDTH = 1000
SHORT = {**SHORT_STATE, "COMPLETING": "CG"}  # a job being stopped (hal/cli/queue_select.shown_states)


def _nodes(j: dict[str, Any]) -> str:
    if "num_nodes" in j:  # hal queue's: the fewest nodes a pending job without -N needs
        return str(j["num_nodes"])
    return str(len(expand(j["nodelist"])) if j.get("nodelist") else j.get("req_nodes") or 1)


SHOWS_REASON = ("PENDING", "TIMEOUT", "OUT_OF_MEMORY", "DEADLINE", "FAILED")  # squeue's %R: the others, nodes


def where(j: dict[str, Any]) -> str:
    """squeue's NODELIST(REASON): ``(reason)`` for a pending job and one that timed out, ran out of memory, missed
    its deadline or failed; the nodes for the rest, as a completed or cancelled job's (none if it never ran)."""
    return f"({j.get('reason') or 'None'})" if j["state"] in SHOWS_REASON else str(j.get("nodelist") or "")


def _left(j: dict[str, Any]) -> float | None:
    """Seconds left of the time limit (all of it while pending), None when there is none (UNLIMITED)."""
    limit = j.get("time_limit")
    return None if limit is None else max(float(limit) - float(j.get("elapsed") or 0.0), 0.0)


def _per_node(j: dict[str, Any], key: str) -> int:
    """A job total (req_mem_mb, req_gpus) per node, as squeue shows them: the record keeps the job's total."""
    return -(-int(j.get(key) or 0) // max(int(_nodes(j)), 1))


def _mb(value: int) -> str:
    """Slurm's convert_num_unit from MB with CONVERT_NUM_UNIT_EXACT, as squeue's %m: a larger unit only when it
    is exact (512M, 4G, 1500M, 1536M); 0 when none was asked for."""
    num, unit = int(value), 0
    while num and num % 1024 == 0 and unit < 3:
        num, unit = num // 1024, unit + 1
    return f"{num}{'MGTP'[unit]}" if value else "0"


def _memory(j: dict[str, Any]) -> int:
    """squeue's MIN_MEMORY: --mem-per-cpu's value as asked, else the memory per node."""
    return int(j.get("mem_per_cpu_mb") or 0) or _per_node(j, "req_mem_mb")


def start_of(j: dict[str, Any]) -> float | None:
    """When it started, or a pending job's expected start (its forecast, or the planner's while that is made;
    a requeued job's earlier start is not its next one)."""
    return j.get("predicted_start") if j.get("state") == "PENDING" else j.get("start_time")


def when(epoch: float | None) -> str:
    """squeue's times: N/A when there is none (a pending job without an expected start), not Unknown."""
    return stamp(epoch) if epoch else "N/A"


def _end(j: dict[str, Any]) -> str:
    """squeue's %e: the end, or while it runs or waits with an expected start the end its time limit sets
    (hal show's EndTime=), NONE without a limit, N/A while no start is expected."""
    if j.get("end_time"):
        return stamp(j["end_time"])
    start = start_of(j)
    if not start or j.get("state") == "CONFIGURING":  # staging: its limit runs from the launch, not yet come
        return "N/A"
    return stamp(float(start) + float(j["time_limit"])) if j.get("time_limit") is not None else "NONE"


def _end_key(j: dict[str, Any]) -> float | None:
    if j.get("end_time"):
        return float(j["end_time"])
    start = start_of(j)
    if not start or j.get("state") == "CONFIGURING":
        return None
    return float(start) + float(j["time_limit"]) if j.get("time_limit") is not None else math.inf


def sched_nodes(j: dict[str, Any]) -> str:
    """squeue's %Y (SCHEDNODES): the nodes the planner holds for a pending job (EASY's head, conservative
    backfill's booked jobs), (null) where it holds none or the job is not pending, as squeue prints it."""
    return str(j.get("sched_nodes") or "(null)") if j.get("state") == "PENDING" else "(null)"


def _tres(j: dict[str, Any]) -> str:
    """squeue's %b (tres-per-node): the GPUs a --gres or --gpus-per-node job asked each node for (gres/gpu:h100:2);
    N/A for none, and for --gpus or --gpus-per-task requests, which squeue shows under tres-per-job, tres-per-task
    (a total split over the nodes is no per-node request: -n 20 --ntasks-per-gpu=1 is 8+8+4 GPUs, not 7 each)."""
    return str(j.get("tres_per_node") or "N/A")


def _tres_alloc(j: dict[str, Any]) -> str:
    """squeue's tres-alloc: what the job was allocated once it has nodes (AllocTRES, as sacct and hal show print
    it), else what it asks for (ReqTRES, on the nodes NODES shows), as squeue prints a job not yet running."""
    held = tres(j, allocated=True) if j.get("nodelist") else ""
    return held or tres({**j, "req_nodes": int(_nodes(j))}) or "N/A"


def _count(entry: str | None) -> int:
    """The count that ends a TRES entry (gres/gpu:h100:2, gres/gpu=2), 0 for none: -S b sorts by it."""
    found = re.search(r"(\d+)$", entry or "")
    return int(found.group(1)) if found else 0


CODES: dict[str, Callable[[dict[str, Any]], str]] = {
    "i": lambda j: str(j["id"]), "A": lambda j: str(j["job_id"]), "j": lambda j: j["name"],
    "F": lambda j: str(j.get("array_job_id") or j["job_id"]),  # the array's id (the job's own when no array)
    "K": lambda j: str(j["id"]).partition("_")[2] or "N/A",  # its task index, or a collapsed range [3-9]
    "u": lambda j: j["user"], "a": lambda j: j.get("account") or "", "P": lambda j: j["partition"],
    "q": lambda j: j.get("qos") or "", "T": lambda j: j["state"], "t": lambda j: SHORT.get(j["state"], "?"),
    "M": lambda j: duration(whole_elapsed(j)), "l": lambda j: duration(j.get("time_limit")), "D": _nodes,
    "C": lambda j: str(j.get("alloc_cpus") or j.get("req_cpus") or 0), "R": where,
    "r": lambda j: j.get("reason") or "None", "N": lambda j: j.get("nodelist") or "",
    "V": lambda j: when(j["submit_time"]), "S": lambda j: when(start_of(j)), "e": _end,
    "Q": lambda j: str(round(j["priority"])) if j.get("priority") is not None else "N/A",  # pending jobs' (sprio)
    "L": lambda j: duration(_left(j)), "m": lambda j: _mb(_memory(j)), "b": _tres,
    "Z": lambda j: j.get("workdir") or "",
    "Y": sched_nodes,
    "{timemin}": lambda j: duration(j["time_min"]) if j.get("time_min") else "N/A",  # --time-min
    "{tresperjob}": lambda j: str(j.get("tres_per_job") or "N/A"), "{tresalloc}": _tres_alloc,
    "{trespertask}": lambda j: str(j.get("tres_per_task") or "N/A"),
    "{numtasks}": lambda j: str(j.get("req_tasks") or 1),
    "%": lambda j: "%",
    **extra.CODES,
}  # fmt: skip
HEADERS = {"i": "JOBID", "A": "JOBID", "F": "ARRAY_JOB_ID", "K": "ARRAY_TASK_ID", "j": "NAME", "u": "USER",
           "a": "ACCOUNT", "P": "PARTITION", "q": "QOS",
           "T": "STATE", "t": "ST", "M": "TIME", "l": "TIME_LIMIT", "D": "NODES", "C": "CPUS",
           "R": "NODELIST(REASON)", "r": "REASON", "N": "NODELIST", "V": "SUBMIT_TIME", "S": "START_TIME",
           "e": "END_TIME", "Q": "PRIORITY", "L": "TIME_LEFT", "m": "MIN_MEMORY", "b": "TRES_PER_NODE",
           "Z": "WORK_DIR", "Y": "SCHEDNODES", "{timemin}": "TIME_MIN", "{tresperjob}": "TRES_PER_JOB",
           "{trespertask}": "TRES_PER_TASK", "{tresalloc}": "TRES_ALLOC", "{numtasks}": "TASKS", "%": "%",
           **extra.HEADERS}  # fmt: skip


def check(fmt: str) -> None:
    """Unknown codes are an error naming them, not an empty column."""
    if any(int(m.group(2) or 0) > MAX_WIDTH for m in CODE.finditer(fmt)):  # %999999999i ran out of memory
        raise ValueError(f"a --format width is at most {MAX_WIDTH}")
    bare = [m.start() for m in PIECE.finditer(fmt) if m.group(3) is None]
    if bare:  # %-6D was printed as it stood, header and rows, while %z was refused
        piece = fmt[bare[0] : bare[0] + 4]
        raise ValueError(f"cannot read --format code {piece!r}: codes are %[.|-][width]letter, e.g. %.18i or %-8j")
    unknown = sorted({m.group(3) for m in CODE.finditer(fmt)} - set(CODES))
    if unknown:
        raise ValueError(f"unknown --format code(s) %{', %'.join(unknown)}; known: %{' %'.join(sorted(CODES))}")


def render(fmt: str, job: dict[str, Any] | None) -> str:
    """One line: a job's values, or (``job`` None) the header."""

    def one(m: re.Match[str]) -> str:
        value = HEADERS[m.group(3)] if job is None else CODES[m.group(3)](job)
        width = int(m.group(2)) if m.group(2) else 0
        if width:  # in terminal cells: a CJK or emoji character takes two (QA: wide names shifted the columns)
            value = set_cell_size(value, width) if cell_len(value) > width else value
            pad = " " * (width - cell_len(value))
            value = pad + value if m.group(1) == "." else value + pad
        return value

    return CODE.sub(one, fmt)


# squeue -O/--Format names (case-insensitive) and the -o code each stands for (UserID: the uid, UserName: the name)
LONG = {
    "jobid": "i", "jobarrayid": "i", "arrayjobid": "F", "arraytaskid": "K", "name": "j", "username": "u",
    "account": "a", "partition": "P", "qos": "q", "state": "T", "statecompact": "t",
    "timeused": "M", "timelimit": "l", "numnodes": "D", "numcpus": "C", "reasonlist": "R", "reason": "r",
    "nodelist": "N", "submittime": "V", "starttime": "S", "endtime": "e", "priority": "Q", "timeleft": "L",
    "minmemory": "m", "tres-per-node": "b", "workdir": "Z", "schednodes": "Y", "timemin": "{timemin}",
    "prioritylong": "Q", "tres-per-job": "{tresperjob}", "tres-per-task": "{trespertask}",
    "tres-alloc": "{tresalloc}", "tres": "{tresalloc}", "numtasks": "{numtasks}", "gres": "b",  # tres, gres: squeue's
    **extra.LONG,
}  # fmt: skip


def from_long(spec: str) -> str:
    """``-O JobID:10,Name,State:.8`` as an -o format: each field ``NAME[:[.][SIZE][SUFFIX]]``, 20 wide by default
    and left-aligned ('.' right-aligns), the suffix printed after it, nothing else between fields, as squeue."""
    parts = []
    for field in (f.strip() for f in spec.split(",")):
        if not field:
            continue
        name, _, size = field.partition(":")
        code = LONG.get(name.lower())
        if code is None:
            raise ValueError(f"unknown --Format field {name!r}; known: {', '.join(sorted(LONG))}")
        dot, rest = (".", size[1:]) if size.startswith(".") else ("", size)
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        suffix = rest[len(digits) :]  # squeue: type[:[.][size][suffix]], the suffix printed after the field (QA)
        if "%" in suffix:
            raise ValueError(f"--Format {field!r}: a suffix after the size cannot hold '%'")
        parts.append(f"%{dot}{digits or 20}{code}{suffix}")
    if not parts:
        raise ValueError("--Format names no field")
    return "".join(parts)


def _state_order(j: dict[str, Any]) -> str:
    return str(j["state"])


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "i": lambda j: (int(j.get("array_job_id") or j["job_id"]), j.get("array_task_id") or -1, j["job_id"]),
    "A": lambda j: j["job_id"],
    "j": lambda j: j["name"],
    "u": lambda j: j["user"],
    "a": lambda j: j.get("account"),
    "P": lambda j: j["partition"],
    "q": lambda j: j.get("qos"),
    "t": _state_order,
    "T": _state_order,
    "M": lambda j: j.get("elapsed"),
    "l": lambda j: j.get("time_limit") or math.inf,
    "D": lambda j: int(_nodes(j)),
    "C": lambda j: int(j.get("alloc_cpus") or j.get("req_cpus") or 0),
    "V": lambda j: j.get("submit_time"),
    "S": start_of,
    "e": _end_key,
    "r": lambda j: j.get("reason") or "",
    "N": lambda j: j.get("nodelist") or "",
    "Q": lambda j: j.get("priority"),
    "p": lambda j: j.get("priority"),
    "L": lambda j: _left(j) if j.get("time_limit") is not None else math.inf,
    "m": _memory,
    "b": lambda j: _count(j.get("tres_per_node")),
    "Z": lambda j: j.get("workdir") or "",
    "F": lambda j: int(j.get("array_job_id") or j["job_id"]),
    "K": lambda j: j.get("array_task_id"),
}  # fmt: skip  (l, L, e: UNLIMITED sorts as the largest, as squeue does)


def sort_jobs(jobs: list[dict[str, Any]], spec: str) -> list[dict[str, Any]]:
    """squeue -S/--sort: comma-separated -o letters, '-' before one for descending ('+' or nothing: ascending);
    the first key sorts first. Jobs without a value (no start time yet) go last either way."""
    keys = []
    for item in (k.strip() for k in spec.split(",")):
        if not item:
            continue
        down, letter = item.startswith("-"), item.lstrip("+-")
        if letter not in SORT_KEYS:
            raise ValueError(f"unknown --sort key {item!r}; known: {' '.join(sorted(SORT_KEYS))} ('-' descends)")
        keys.append((SORT_KEYS[letter], down))
    for key, down in reversed(keys):  # stable sorts, last key first
        have = [j for j in jobs if key(j) is not None]
        have.sort(key=key, reverse=down)
        jobs = have + [j for j in jobs if key(j) is None]
    return jobs

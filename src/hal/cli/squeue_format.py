"""squeue's ``-o/--format`` codes (``%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R``) over HAL's job records.

A code is ``%[.][width]letter``: a width pads the value (to the right with ``.``, as squeue does), and text
between codes is kept, so ``-h -o %T`` prints bare states for a script to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hal.cli.live import SHORT_STATE, duration, stamp
from hal.executors.hostlist import expand

CODE = re.compile(r"%(\.?)(\d*)([A-Za-z%])")


def _nodes(j: dict[str, Any]) -> str:
    return str(len(expand(j["nodelist"])) if j.get("nodelist") else j.get("req_nodes") or 1)


def _where(j: dict[str, Any]) -> str:
    return j["nodelist"] if j["state"] in ("RUNNING", "CONFIGURING", "STAGE_OUT") else f"({j.get('reason') or 'None'})"


CODES: dict[str, Callable[[dict[str, Any]], str]] = {
    "i": lambda j: str(j["id"]), "A": lambda j: str(j["job_id"]), "j": lambda j: j["name"],
    "F": lambda j: str(j.get("array_job_id") or j["job_id"]),  # the array's id (the job's own when no array)
    "K": lambda j: str(j["id"]).partition("_")[2] or "N/A",  # its task index, or a collapsed range [3-9]
    "u": lambda j: j["user"], "a": lambda j: j.get("account") or "", "P": lambda j: j["partition"],
    "q": lambda j: j.get("qos") or "", "T": lambda j: j["state"], "t": lambda j: SHORT_STATE.get(j["state"], "?"),
    "M": lambda j: duration(j["elapsed"]), "l": lambda j: duration(j.get("time_limit")), "D": _nodes,
    "C": lambda j: str(j.get("alloc_cpus") or j.get("req_cpus") or 0), "R": _where,
    "r": lambda j: j.get("reason") or "None", "N": lambda j: j.get("nodelist") or "",
    "V": lambda j: stamp(j["submit_time"]), "S": lambda j: stamp(j.get("start_time") or j.get("predicted_start")),
    "e": lambda j: stamp(j.get("end_time") or j.get("predicted_end")),
    "%": lambda j: "%",
}  # fmt: skip
HEADERS = {"i": "JOBID", "A": "JOBID", "F": "ARRAY_JOB_ID", "K": "ARRAY_TASK_ID", "j": "NAME", "u": "USER",
           "a": "ACCOUNT", "P": "PARTITION", "q": "QOS",
           "T": "STATE", "t": "ST", "M": "TIME", "l": "TIME_LIMIT", "D": "NODES", "C": "CPUS",
           "R": "NODELIST(REASON)", "r": "REASON", "N": "NODELIST", "V": "SUBMIT_TIME", "S": "START_TIME",
           "e": "END_TIME", "%": "%"}  # fmt: skip


def check(fmt: str) -> None:
    """Unknown codes are an error naming them, not an empty column."""
    unknown = sorted({m.group(3) for m in CODE.finditer(fmt)} - set(CODES))
    if unknown:
        raise ValueError(f"unknown --format code(s) %{', %'.join(unknown)}; known: %{' %'.join(sorted(CODES))}")


def render(fmt: str, job: dict[str, Any] | None) -> str:
    """One line: a job's values, or (``job`` None) the header."""

    def one(m: re.Match[str]) -> str:
        value = HEADERS[m.group(3)] if job is None else CODES[m.group(3)](job)
        width = int(m.group(2)) if m.group(2) else 0
        if width:
            value = value[:width]
            value = value.rjust(width) if m.group(1) else value.ljust(width)
        return value

    return CODE.sub(one, fmt)

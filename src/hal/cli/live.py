"""Plumbing shared by the live commands: the SDK client, JSON output, and Slurm's time formats."""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.markup import escape

from hal.cli.common import err, fail
from hal.client import Client, HalError

JsonOpt = typer.Option(False, "--json", help="print machine-readable JSON instead of a table")


@contextlib.contextmanager
def client() -> Iterator[Client]:
    """A client from HAL_URL/HAL_TOKEN or HAL_HOME; server errors become clear messages and exit code 1."""
    try:
        with Client() as c:
            yield c
    except HalError as exc:
        prefix = {401: "not authorized", 403: "denied", 404: "not found", 413: "too large"}.get(exc.status, "error")
        err.print(f"[bold red]{prefix}:[/] {escape(str(exc))}")  # "[data]" in a message is not markup
        raise typer.Exit(1) from None
    except TimeoutError as exc:
        raise fail(str(exc), 1) from None


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


_UNIT_NAMES = {1: ",s,sec,secs,second,seconds", 60: "m,min,mins,minute,minutes", 3600: "h,hr,hrs,hour,hours",
               86400: "d,day,days", 604800: "w,week,weeks"}  # fmt: skip
UNITS = {unit: scale for scale, names in _UNIT_NAMES.items() for unit in names.split(",")}  # now-N<unit>, as sacct


def sacct_duration(seconds: float | None) -> str:
    """sacct's Elapsed and Timelimit: [D-]HH:MM:SS (squeue's TIME is shorter, see ``duration``)."""
    if seconds is None:
        return "UNLIMITED"
    days, s = divmod(max(int(seconds), 0), 86400)
    text = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{days}-{text}" if days else text


def whole_elapsed(job: dict[str, Any]) -> int:
    """A job's run time in whole seconds as its printed Start and End differ (Slurm keeps whole-second times):
    floored end less floored start, so Elapsed agrees with them (13:23:23.6 to 13:23:27.2 is 4, not 3). A
    running job's end is the server's now (its start plus ``elapsed``); one with no clock yet is 0."""
    start, elapsed = job.get("start_time"), float(job.get("elapsed") or 0.0)
    if start is None or elapsed <= 0:
        return max(int(elapsed), 0)
    end = job.get("end_time")
    end = float(start) + elapsed if end is None else float(end)
    return max(math.floor(end) - math.floor(float(start)), 0)


def duration(seconds: float | None) -> str:
    """Slurm's elapsed format: M:SS, H:MM:SS or D-HH:MM:SS; UNLIMITED when there is no limit."""
    if seconds is None:
        return "UNLIMITED"
    s = max(int(seconds), 0)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{s:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{s:02d}"
    return f"{minutes}:{s:02d}"


def stamp(epoch: float | None) -> str:
    if epoch is None:
        return "Unknown"
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%S")


def parse_when(text: str | None) -> float | None:
    """sacct's -S/-E: an ISO date or time, now[-N units], today/midnight, HH:MM[:SS] or MM/DD[/YY] (the last
    two, as sacct reads them, the most recent such time that has passed: 23:00 at 07:30 is yesterday's)."""
    if text is None:
        return None
    word = text.strip().lower()
    m = re.fullmatch(r"now(?:-(\d+(?:\.\d+)?)\s*([a-z]*))?", word)
    if m:  # Slurm's now[-count[seconds|minutes|hours|days|weeks]] (and their abbreviations)
        number, scale = float(m.group(1) or 0), UNITS.get(m.group(2) or "")
        if scale is None:
            raise fail(f"cannot read time {text!r}: the unit is seconds, minutes, hours, days or weeks")
        return time.time() - number * scale
    now = datetime.now()
    if word in ("today", "midnight"):
        return datetime.combine(now.date(), datetime.min.time()).timestamp()
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", word):  # HH:MM[:SS]: today's, or yesterday's if still to come
        hms = [int(x) for x in word.split(":")] + [0]
        try:
            when = now.replace(hour=hms[0], minute=hms[1], second=hms[2], microsecond=0)
        except ValueError:
            raise fail(f"cannot read time {text!r}: not a time of day") from None
        return (when - timedelta(days=1) if when > now else when).timestamp()
    d = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", word)
    if d:  # MM/DD[/YY]: without a year, the most recent one that has passed
        year = int(d.group(3)) + (2000 if d.group(3) and len(d.group(3)) == 2 else 0) if d.group(3) else now.year
        try:
            day = datetime(year, int(d.group(1)), int(d.group(2)))
            if d.group(3) is None and day > now:
                day = day.replace(year=year - 1)
        except ValueError:
            raise fail(f"cannot read date {text!r}: not a month/day") from None
        return day.timestamp()
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise fail(f"cannot read time {text!r}; use YYYY-MM-DD[THH:MM[:SS]], HH:MM, MM/DD, today or now-2h") from None


SHORT_STATE = {
    "PENDING": "PD", "CONFIGURING": "CF", "RUNNING": "R", "COMPLETED": "CD", "FAILED": "F", "CANCELLED": "CA",
    "TIMEOUT": "TO", "NODE_FAIL": "NF", "PREEMPTED": "PR", "OUT_OF_MEMORY": "OOM", "STAGE_OUT": "SO",
    "REQUEUED": "RQ",  # an earlier attempt's, in hal history -D
}  # fmt: skip


def parse_states(text: str | None) -> tuple[str | None, set[str] | None]:
    """``-t``/``--state`` as squeue and sacct take it (long or short names, any case) into the states the API
    filters on, and the ones to keep after (CONFIGURING is a RUNNING job staging its inputs). Unknown names are
    an error, not an empty list."""
    if not text or text.strip().lower() == "all":  # squeue -t all
        return None, None
    by_short = {v: k for k, v in SHORT_STATE.items()}
    wanted = set()
    for name in (x.strip().upper() for x in text.split(",") if x.strip()):
        full = by_short.get(name, name)
        if full not in SHORT_STATE:
            raise fail(f"unknown job state {name!r}; known: {', '.join(SHORT_STATE)} (or {', '.join(by_short)})")
        wanted.add(full)
    api = {"RUNNING" if s == "CONFIGURING" else s for s in wanted}
    return ",".join(sorted(api)), wanted


def num_nodes(job: dict[str, Any], node_cpus: int = 0) -> int:
    """Its nodes once placed; before, its -N, or without one the fewest nodes of ``node_cpus`` CPUs (the
    largest node's) that hold its CPUs, as squeue's NODES and scontrol's NumNodes both show a pending job."""
    from hal.executors.hostlist import expand

    if job.get("nodelist"):
        return len(expand(job["nodelist"]))
    fewest = -(-int(job.get("req_cpus") or 1) // node_cpus) if node_cpus else 1
    return int(job.get("req_nodes") or max(1, fewest))


def tres(job: dict[str, Any], allocated: bool = False, node_cpus: int = 0) -> str:
    """Slurm's TRES string (ReqTRES, AllocTRES): cpu, mem, node and gres/gpu when the job has GPUs; what a job
    that never started was allocated is empty."""
    if allocated and not job.get("nodelist"):
        return ""
    nodes = num_nodes(job, node_cpus)
    cpus = job.get("alloc_cpus") if allocated else job.get("req_cpus")
    mem, gpus = job.get("req_mem_mb"), job.get("req_gpus")
    kinds: dict[str, int] = {job["gpu_type"]: gpus} if job.get("gpu_type") and gpus else {}  # a typed request's
    if allocated and job.get("alloc_gpus") is not None:  # what it holds (whole nodes with --exclusive), not asked
        mem, gpus = job.get("alloc_mem_mb"), job.get("alloc_gpus")
        held = job.get("alloc_gpu_types")  # the held GPUs' own types, typed or not asked (a server before: none)
        kinds = dict(held) if isinstance(held, dict) else {k: int(gpus or 0) for k in kinds}
    parts = [f"cpu={cpus or 0}", f"mem={mem or 0}M", f"node={nodes}"]
    if gpus:  # the count by type too, as Slurm adds gres/gpu:h100=2 (gres/gpu=8,gres/gpu:a100=4,gres/gpu:h100=4)
        parts += [f"gres/gpu={gpus}"] + [f"gres/gpu:{kind}={n}" for kind, n in sorted(kinds.items())]
    return ",".join(parts)

"""Plumbing shared by the live commands: the SDK client, JSON output, and Slurm's time formats."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
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
    """sacct's -S/-E: an ISO date or time, or now-N[s|m|h|d]."""
    if text is None:
        return None
    m = re.fullmatch(r"now(?:-(\d+(?:\.\d+)?)\s*([a-z]*))?", text.strip().lower())
    if m:  # Slurm's now[-count[seconds|minutes|hours|days|weeks]] (and their abbreviations)
        number, scale = float(m.group(1) or 0), UNITS.get(m.group(2) or "")
        if scale is None:
            raise fail(f"cannot read time {text!r}: the unit is seconds, minutes, hours, days or weeks")
        return time.time() - number * scale
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):  # sacct's HH:MM[:SS]: today
        text = f"{datetime.now().date().isoformat()}T{text.zfill(len(text) + 1) if len(text) in (4, 7) else text}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise fail(f"cannot read time {text!r}; use YYYY-MM-DD[THH:MM[:SS]], HH:MM or now-2h") from None


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
    parts = [f"cpu={cpus or 0}", f"mem={job.get('req_mem_mb') or 0}M", f"node={nodes}"]
    if job.get("req_gpus"):
        parts.append(f"gres/gpu={job['req_gpus']}")
    return ",".join(parts)

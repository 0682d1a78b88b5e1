"""`hal drain` / `hal resume`: Slurm's `scontrol update NodeName=... State=DRAIN|RESUME Reason=...` (admins)."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import err, out
from hal.cli.live import JsonOpt, client, emit_json
from hal.executors.hostlist import expand

Nodes = Annotated[str, typer.Argument(help="nodes as a Slurm host list, e.g. vn[001-002]")]


def drain(
    nodes: Nodes,
    reason: Annotated[str, typer.Option("--reason", help="why (shown by hal nodes -R)")] = "",
    json_out: bool = JsonOpt,
) -> None:
    """Take nodes out of service: their running jobs finish, no new job starts there (kept across restarts)."""
    with client() as c:
        done = c.drain(nodes, reason)
    if json_out:
        emit_json({"drained": done})
    else:
        out.print(f"drained {', '.join(done)}", highlight=False)


def resume(nodes: Nodes, json_out: bool = JsonOpt) -> None:
    """Put drained nodes back in service."""
    with client() as c:
        done = c.resume(nodes)
    not_drained(nodes, done, "hal resume")
    if json_out:
        emit_json({"resumed": done})
    else:
        out.print(f"resumed {', '.join(done)}", highlight=False)


def not_drained(nodes: str, done: list[str], command: str) -> None:
    """Of a resume's node list, those that were not drained: the rest resumed, these said (as scontrol)."""
    skipped = [n for n in expand(nodes) if n not in done]
    if skipped:
        err.print(f"{command}: not drained: {', '.join(skipped[:5])}", markup=False, highlight=False)

"""`hal hold` / `hal release`: Slurm's scontrol hold and release for pending jobs (your own; admins any)."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import out
from hal.cli.live import JsonOpt, client, emit_json

Jobs = Annotated[list[str], typer.Argument(help="job ids: 12, an array 12, or one task 12_3")]


def hold(jobs: Jobs, json_out: bool = JsonOpt) -> None:
    """Keep pending jobs from starting (reason JobHeldUser) until `hal release`."""
    with client() as c:
        done = {job: c.hold(job) for job in jobs}
    _report(done, "held", json_out)


def release(jobs: Jobs, json_out: bool = JsonOpt) -> None:
    """Let held jobs start again."""
    with client() as c:
        done = {job: c.release(job) for job in jobs}
    _report(done, "released", json_out)


def _report(done: dict[str, list[int]], verb: str, json_out: bool) -> None:
    if json_out:
        emit_json({verb: done})
        return
    for job, ids in done.items():
        out.print(f"{verb} {len(ids)} job(s) of {job}: {', '.join(map(str, ids))}", highlight=False)

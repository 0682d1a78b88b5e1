"""`hal update`: Slurm's `scontrol update job`, for a job's request after submission."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import out
from hal.cli.live import JsonOpt, client, emit_json

HELP = """Change a job after submission (scontrol update job): `hal update 12 TimeLimit=30 Nice=100`.

While it is pending (it keeps its id and its place in the queue): TimeLimit (a time, or +/- a change),
JobName, Comment, Requeue, Partition, QOS, Account, Nice, StartTime, Dependency, NumNodes, NumTasks,
Features, ReqNodeList, ExcNodeList, ArrayTaskThrottle (12, the whole array). Once it runs: TimeLimit,
JobName, Comment, Requeue. Only an administrator raises a time limit or sets a negative Nice."""


def update(
    words: Annotated[list[str], typer.Argument(help="JOBID (or JobId=JOBID), then FIELD=VALUE pairs")],
    json_out: bool = JsonOpt,
) -> None:
    job, fields = _parse(words)
    refs = list(dict.fromkeys(r.strip() for r in job.split(",") if r.strip()))  # 12,13: each once, as scontrol
    with client() as c:  # an error is printed there, with exit status 1
        done = {ref: c.update(ref, **fields) for ref in refs}
    if json_out:
        emit_json({"updated": [i for ids in done.values() for i in ids]})
        return
    said = " ".join(f"{k}={v}" for k, v in fields.items())
    for ref, ids in done.items():
        out.print(f"updated {len(ids)} job(s) of {ref}: {said}", markup=False, highlight=False)


update.__doc__ = HELP


def _parse(words: list[str]) -> tuple[str, dict[str, str]]:
    """``12 TimeLimit=30`` or scontrol's ``JobId=12 TimeLimit=30`` (any order, any case for JobId)."""
    job = ""
    fields: dict[str, str] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq and not job:
            job = word
        elif eq and key.lower() in ("jobid", "job"):
            job = value
        elif eq and key:
            fields[key] = value
        else:
            raise typer.BadParameter(f"{word!r}: give JOBID, then FIELD=VALUE pairs (e.g. TimeLimit=1:00)")
    if not job:
        raise typer.BadParameter("which job? give JOBID or JobId=JOBID first")
    if not fields:
        raise typer.BadParameter("nothing to update: give FIELD=VALUE pairs, e.g. TimeLimit=1:00")
    return job, fields

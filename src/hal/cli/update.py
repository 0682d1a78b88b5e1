"""`hal update`: Slurm's `scontrol update job`, for a job's request after submission."""

from __future__ import annotations

from typing import Annotated

import typer

from hal.cli.common import err, out
from hal.cli.live import JsonOpt, client, emit_json
from hal.client import HalError

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
    done: dict[str, list[int]] = {}
    failed: dict[str, str] = {}
    with client() as c:
        for ref in refs:  # each on its own: one that is refused is reported, the rest still updated
            try:
                done[ref] = c.update(ref, **fields)
            except HalError as exc:
                failed[ref] = str(exc)
    if json_out:
        emit_json({"updated": [i for ids in done.values() for i in ids], "failed": failed})
    else:
        said = " ".join(f"{k}={v}" for k, v in fields.items())
        for ref, ids in done.items():
            what = f"job {ref}" if len(ids) == 1 else f"{len(ids)} jobs of {ref}"
            out.print(f"updated {what}: {said}", markup=False, highlight=False)
        for ref, why in failed.items():
            err.print(f"hal update {ref}: {why}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


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

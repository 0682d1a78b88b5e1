"""`hal hold` / `hal release` / `hal requeue`: Slurm's scontrol hold and release for pending jobs and requeue for
running ones (your own; admins any)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hal.cli.common import err, out
from hal.cli.job_refs import split_refs
from hal.cli.live import JsonOpt, client, emit_json
from hal.client import HalError
from hal.executors.hostlist import ranges

UNCHANGED = {"held": "already held", "released": "none was held"}  # a hold or release that changed nothing
Jobs = Annotated[list[str], typer.Argument(help="job ids: 12, an array 12, or one task 12_3")]


def hold(jobs: Jobs, json_out: bool = JsonOpt) -> None:
    """Keep pending jobs from starting until `hal release` (JobHeldUser; JobHeldAdmin when an administrator
    holds, which only an administrator releases)."""
    _each(jobs, "held", json_out)


def release(jobs: Jobs, json_out: bool = JsonOpt) -> None:
    """Let held jobs start again."""
    _each(jobs, "released", json_out)


def requeue(jobs: Jobs, json_out: bool = JsonOpt) -> None:
    """Queue running (stopped first) or ended jobs again under the same ids (scontrol requeue; Restarts grows)."""
    _each(jobs, "requeued", json_out)


def _each(jobs: list[str], verb: str, json_out: bool) -> None:
    """Every job named (also ``12,13``), each on its own: one that cannot be held is reported, not a stop."""
    refs = list(dict.fromkeys(r for job in jobs for r in split_refs(job)))  # each once; 12_[1,3] kept whole
    done: dict[str, list[int]] = {}
    failed: dict[str, str] = {}
    shown: dict[str, list[str]] = {}
    with client() as c:
        for ref in refs:
            try:
                done[ref] = {"held": c.hold, "released": c.release, "requeued": c.requeue}[verb](ref)
                shown[ref] = _printed(c, ref, done[ref])
            except HalError as exc:
                failed[ref] = str(exc)
    if json_out:
        emit_json({verb: done, "failed": failed})
    else:
        for ref, ids in shown.items():  # "held job 14"; an array's tasks by name, counted one by one (not 12_[0-3])
            said = f"job {ids[0]}" if ids == [ref] else f"{len(done[ref])} job(s) of {ref}: {', '.join(ids)}"
            if not ids:  # each already as asked: nothing changed, as scontrol's silent success
                said = f"no job of {ref}: {UNCHANGED.get(verb, 'none changed')}"
            out.print(f"{verb} {said}", highlight=False)
        for ref, why in failed.items():
            err.print(f"{ref}: {why}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


def _printed(c: Any, ref: str, ids: list[int]) -> list[str]:
    """The ids as Slurm prints them: an array's tasks as 21_6, not their internal job ids (21: 27)."""
    if not ids:
        return []
    base = ref.split("_")[0]
    if "_" not in ref and ids == [int(base)]:
        return [ref]
    try:
        rec = c.get(base)
    except HalError:
        return [str(i) for i in ids]
    tasks = {t["job_id"]: t for t in rec.get("tasks") or [rec]}
    if len(ids) > 3 and all(tasks.get(i, {}).get("array_task_id") is not None for i in ids):  # 107_[3-1000]
        return [f"{base}_{ranges(int(tasks[i]['array_task_id']) for i in ids)}"]
    return [str(tasks[i]["id"]) if i in tasks else str(i) for i in ids]

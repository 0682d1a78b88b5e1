"""Finding the jobs a reference names for the routes: ``12`` (a job, or an array's tasks), ``12_3``, or a task
list ``12_[1-3]``, which answers with every listed task that exists (it answered with the first alone)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, HTTPException

from hal.api.array_summary import array_summary
from hal.api.views import running_ends
from hal.controller.auth import Identity
from hal.controller.contracts import Forbidden, NotFound
from hal.controller.core import Controller
from hal.controller.task_lists import NotATaskList, task_list


def checked_ref(ref: str) -> str:
    """A reference that cannot name a job (``abc``, ``1.5``, ``12_x``, a task list that names no tasks) is a bad
    request (400); 404 is kept for a well-formed id that names no job, so a client can tell a typo from a job
    that is gone."""
    try:
        listed = task_list(ref)
    except NotATaskList as exc:
        raise HTTPException(400, str(exc)) from None
    if listed is None and not _well_formed(ref):
        raise HTTPException(400, f"{ref!r} is not a job id")  # resolve_ref's words, which answered 404
    return ref


def _well_formed(ref: str) -> bool:
    """``12`` or ``12_3``, read as the controller's resolve_ref reads them (int() of each part); no id is
    negative, so ``-5`` is malformed too."""
    try:
        return all(int(part) >= 0 for part in ref.strip().split("_", 1))
    except ValueError:
        return False


Ref = Annotated[str, Depends(checked_ref)]


def visible(ctl: Controller, ref: str, who: Identity, start: bool = False) -> list[dict[str, Any]]:
    """The rows ``ref`` names, if ``who`` may see them."""
    ids = ctl.resolve(ref)
    found = ctl.store.query(job_ids=ids) if len(ids) > 1 else [r for r in [ctl.store.get(ids[0])] if r]
    rows = ctl.annotate(found, start)
    rows = running_ends(ctl, rows)
    rows = [r for r in rows if r["id"] in set(ids)]
    if not rows:
        raise NotFound(f"no job {ref}")
    if not who.may_see(rows[0]["user"]):
        raise Forbidden(f"job {ref} belongs to another user")
    return rows


def shared_scripts(ctl: Controller, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Array tasks' scripts, stored once with the array's first task (controller/jobs.py request_json)."""
    firsts: dict[int, str] = {}
    for rec in recs:
        first = rec.get("array_job_id")
        if rec.get("script") == "" and first is not None and first != rec["job_id"]:
            if first not in firsts:
                row = ctl.store.get(first)
                firsts[first] = json.loads(row["request"]).get("script", "") if row is not None else ""
            rec["script"] = firsts[first]
    return recs


def answer(ref: str, recs: list[dict[str, Any]]) -> dict[str, Any]:
    """One record for a job or one task; an array, or a task list, as the array's summary of those tasks (its
    ``tasks``), whose ``id`` is the list as asked."""
    if task_list(ref) is not None:
        return {**array_summary(recs), "id": ref.strip()}
    if len(recs) == 1 and "_" not in ref and str(recs[0]["array_job_id"]) != ref:
        return recs[0]  # a job, or one task named by its own id (it was shown as its whole array)
    return recs[0] if "_" in ref else array_summary(recs)

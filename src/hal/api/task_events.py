"""GET /v1/jobs/REF/events for every job REF names: an array's or a task list's tasks each (it answered with the
first task's alone), read in a few queries, in time order, each event tagged with the job it is of."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hal.controller.store import Store, job_events

CHUNK = 5_000  # ids per query: well inside SQLite's and PostgreSQL's bound-parameter limits


def events_of_rows(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the jobs ``rows``, oldest first (the order they were recorded in among equal times), each
    with ``job`` (``12``, or ``12_3`` for a task, as squeue shows it) and ``array_job_id``/``array_task_id``."""
    tags: dict[int, dict[str, Any]] = {}
    for row in rows:
        array_id, task = row.get("array_job_id"), row.get("array_task_id")
        shown = f"{array_id}_{task}" if array_id is not None and task is not None else str(row["id"])
        tags[row["id"]] = {"job": shown, "array_job_id": array_id, "array_task_id": task}
    ids = sorted(tags)
    found: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for at in range(0, len(ids), CHUNK):
            q = sa.select(job_events).where(job_events.c.job_id.in_(ids[at : at + CHUNK]))
            found.extend(dict(r) for r in conn.execute(q).mappings())
    found.sort(key=lambda e: (e["time"], e["id"]))
    return [{**e, **tags[e["job_id"]]} for e in found]

"""The running jobs a `hal requeue` or `hal cancel -s` names: the caller's own (or any, for an administrator),
those whose processes run (not those still staging their inputs)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from hal.controller.auth import Identity
from hal.controller.contracts import Forbidden


def running_targets(
    ctl: Any, ids: list[int], ref: str, who: Identity, verb: str
) -> tuple[dict[int, dict[str, Any]], list[int], Collection[int]]:
    """(rows by id, the ids running, the ids staging) of the jobs ``ids`` (``ref`` resolved); Forbidden when one
    is another user's. Called under the controller's lock."""
    rows = {r["id"]: r for r in ctl.store.query(job_ids=ids)}
    if any(not who.may_see(r["user"]) for r in rows.values()):
        raise Forbidden(f"job {ref} belongs to another user; you may {verb} only your own jobs")
    staging = ctl.staging.staging if ctl.staging is not None else {}
    running = [j for j in ids if j in ctl.live and ctl.live[j].state == "RUNNING" and j not in staging]
    return rows, running, staging

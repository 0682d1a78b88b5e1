"""When the room a failed stage-out's kept output holds in a node cache frees (``[data] keep_failed_outputs``), and
how a job waiting for cache room is told about it. QA: a job waiting behind such room was told "the node caches are
full of running jobs' inputs", forecast to start seconds later, while the room stayed held for the keep window
(7 days by default): no job's end frees it, only the sweep (``hal.data.kept_sweep``) or its owner removing it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hal.data.kept_room import key_of
from hal.data.restart import _kept_since
from hal.data.stager import JOBS


@dataclass(frozen=True, slots=True)
class Kept:
    """A job folder's kept bytes in ``node``'s cache, held until ``until`` (inf: kept for good)."""

    node: str
    job_id: int
    size: int
    until: float

    def words(self) -> str:
        """What holds the room, in words (a job's Why, hal explain)."""
        when = "for good (keep_failed_outputs = 0)" if not math.isfinite(self.until) else f"until {stamp(self.until)}"
        return f"job {self.job_id}'s failed output(s) kept in {self.node}'s cache ({self.size:,} bytes) {when}"


def stamp(epoch: float) -> str:
    """As the CLI prints times (hal.cli.live.stamp)."""
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%S")


def kept_in(cache: Any) -> dict[int, int]:
    """The ended jobs whose folders' bytes ``cache`` holds (``hal.data.kept_room``), with those bytes."""
    found = {}
    for key, size in list(cache.reserved.items()):
        head, _, job = key.partition("/")
        if head == JOBS and job.isdigit() and key == key_of(int(job)) and size > 0:
            found[int(job)] = int(size)
    return found


def kept_until(ctl: Any, job_id: int, now: float) -> float:
    """When the sweep removes the job's kept outputs: the keep window counts from when each was said kept (its
    "kept at" event, as ``restart.sort_outputs`` reads it; now for one not said yet), the room frees with the
    last one. inf when they are kept for good (``keep_failed_outputs`` = 0)."""
    keep = float(ctl.staging.stager.keep_failed_outputs)
    if keep <= 0:
        return math.inf
    since = _kept_since(ctl.store.events_of(job_id))
    return (max(since.values()) if since else now) + keep


def kept_on(ctl: Any, node: str, cache: Any, now: float) -> list[Kept]:
    """The kept outputs holding room in ``node``'s ``cache``, each with when it frees."""
    return [Kept(node, job, size, kept_until(ctl, job, now)) for job, size in sorted(kept_in(cache).items())]

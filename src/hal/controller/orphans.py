"""At a restart, jobs the executor's spool holds but the database does not (an emptied, replaced or older
database): the ones still running are killed and said loudly, as Slurm kills the jobs slurmd reports that the
controller does not know; their spool folders are kept, moved aside; and new job ids start above every id the
spool has seen, so none is given twice. Before this, such a job ran on unaccounted (the scheduler placed others on
its CPUs), and a new job given its id failed at launch: "job N is still running here"."""

from __future__ import annotations

import logging
from typing import Any

from hal.controller.core import Controller

log = logging.getLogger("hal.controller")
CHUNK = 500  # ids per query (SQLite's older limit on bound parameters is 999)


def sweep_orphans(ctl: Controller, pending: set[int]) -> dict[str, int]:
    """Called by recover() before it reattaches anything; pending: the ids the database holds as PENDING (an
    older database's pending job may run already: that run is unaccounted too). Returns counts for the log."""
    sweep: Any = getattr(ctl.executor, "orphans", None)
    if sweep is None:
        return {}
    found = sweep()
    plain, top = found.listed()
    if not plain and top == 0:
        return {}
    stored = ctl.store.max_job_id()
    known: set[int] = set()
    ask = sorted(j for j in plain if j <= stored)  # above the highest stored id none is known: no query for them
    for i in range(0, len(ask), CHUNK):
        known.update(ctl.store.states(ask[i : i + CHUNK]))
    unknown = sorted(set(plain) - known)
    if stored == 0:
        log.warning(
            "the database holds no jobs but the spool %s holds %d job folder(s) (ids up to %d): the database was "
            "lost or replaced; the history of those jobs is not in it", found.spool.root / "jobs", len(plain), top,
        )  # fmt: skip
    elif unknown:
        log.warning(
            "the spool holds %d job(s) the database does not know (%s): was the database replaced by an older "
            "copy?", len(unknown), _ids(unknown),
        )  # fmt: skip
    stopped = found.stop(unknown, sorted(set(plain) & pending))
    killed = 0
    for o in stopped:
        kept = f"its spool kept at {o.kept}" if o.kept else f"its spool left at {found.spool.job_dir(o.job_id)}"
        if o.pid is None:
            continue
        killed += 1
        if o.job_id in known:
            log.warning("job %s runs but the database holds it as pending: killed (pid %s); %s", o.job_id, o.pid, kept)
        else:
            log.warning("job %s runs but the database does not know it: killed (pid %s); %s", o.job_id, o.pid, kept)
    moved = [o for o in stopped if o.pid is None and o.kept is not None]
    if moved:
        log.warning(
            "%d ended job(s) the database does not know (%s): their spool folders moved aside to %s",
            len(moved), _ids([o.job_id for o in moved]), moved[0].kept.parent if moved[0].kept else "",
        )  # fmt: skip
    if top >= ctl.next_id:
        log.warning("new job ids start at %d, above every id in the spool (the database's next was %d)", top + 1,
                    ctl.next_id)  # fmt: skip
        ctl.next_id = top + 1
    counts = {"orphans_killed": killed, "orphans_moved": sum(o.kept is not None for o in stopped)}
    return {k: v for k, v in counts.items() if v}  # a normal start's log line stays as it was


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")

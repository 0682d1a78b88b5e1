"""Earlier attempts of requeued jobs, as sacct -D lists them. A requeue clears the job's row for its next run, so
each ended attempt (its start, end, nodes, CPUs, time limit and how it ended) is kept in ``job_attempts`` first; the
row itself always describes the latest attempt (its Elapsed and CPU time are that attempt's, as in sacct), and a
restart recharges fair share from both (store.usage_rows)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hal.controller.store import Row, Store, job_attempts, job_events, jobs
from hal.executors.api import ExecEvent

CHUNK = 900  # ids per IN (...): SQLite's older builds allow 999 bound parameters
BACK = ("PENDING", "requeued")  # the event of a requeued job back in the queue (hal/controller/requeue.py)


def record_attempt(
    conn: Connection, job_id: int, end: float, state: str, cause: str, charged: bool, ended: ExecEvent | None = None
) -> None:
    """Keep the attempt the job's row describes, before the requeue clears it. ``ended``: the executor's report
    (exit code, CPU time, RSS), else the row's own. ``charged``: whether fair share charged the attempt when it
    ended (a failed stage-in is not), so that a restart recharges exactly what the running controller did."""
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None or row["start_time"] is None:
        return  # it never started: nothing ran that accounting could show
    if ended is not None:
        run = {"exit_code": ended.exit_code, "signal": ended.signal, "cpu_seconds": ended.cpu_seconds,
               "max_rss_mb": ended.max_rss_mb}  # fmt: skip
    else:  # an ended job taken back (hal requeue), or a stage-in that failed before anything ran
        run = {k: row[k] for k in ("exit_code", "signal", "cpu_seconds", "max_rss_mb")}
    conn.execute(
        job_attempts.insert().values(
            job_id=job_id, restarts=int(row["restarts"] or 0), state=state, cause=cause,
            account=row["account"] or "", partition=row["partition"] or "", start_time=row["start_time"],
            end_time=max(end, row["start_time"]), nodelist=row["nodelist"] or "",
            alloc_cpus=int(row["alloc_cpus"] or 0), alloc=row["alloc"] or "", charged=charged,
            time_limit=row["time_limit"], **run,
        )
    )  # fmt: skip


def attempts_of(store: Store, job_ids: Sequence[int]) -> dict[int, list[Row]]:
    """Each job's earlier attempts, oldest first (jobs never requeued have none)."""
    found: dict[int, list[Row]] = {}
    ids = sorted(set(job_ids))
    with store.engine.connect() as conn:
        for i in range(0, len(ids), CHUNK):
            q = sa.select(job_attempts).where(job_attempts.c.job_id.in_(ids[i : i + CHUNK]))
            for r in conn.execute(q.order_by(job_attempts.c.id)).mappings():
                found.setdefault(int(r["job_id"]), []).append(dict(r))
    return found


SHOWN = ("restarts", "state", "cause", "start_time", "end_time", "nodelist", "alloc_cpus", "alloc", "exit_code",
         "signal", "cpu_seconds", "max_rss_mb", "account", "partition", "time_limit")  # fmt: skip
# time_limit: the attempt's own (sacct -D's Timelimit): a --time-min cut, where the job now has its --time back


def attempt_row(job: Row, attempt: Row) -> Row:
    """An attempt as a job row (what the API's record() reads): the job's request, the attempt's run. Nothing of
    the job's present (its queue place, forecast, pending reason) carries over."""
    columns = set(jobs.c.keys())
    row = {k: v for k, v in job.items() if k in columns}
    row.update({k: attempt[k] for k in SHOWN})
    row["predicted_end"] = None
    return row


def ran_attempts(store: Store, since: float) -> list[Row]:
    """Earlier attempts that ran (fair share charged them) and went back to the queue after ``since``, each as a job
    row with ``requeued_at`` (when it went back), in end order: the live controller's predictor learned every run of
    a requeued job, and predicted the job again at its requeue. An ended job taken back (hal requeue) went back long
    after its run ended, so its attempt counts when the requeue is after ``since`` though its run ended before (QA:
    a kill -9 relearn then had no input frozen for the run that followed, and lost it)."""
    a, e = job_attempts.c, job_events.c
    back = sa.and_(e.state == BACK[0], e.cause == BACK[1])
    later = sa.select(e.job_id).where(back, e.time > since)
    q = (
        sa.select(job_attempts)
        .where(a.charged.is_(True), sa.or_(a.end_time > since, a.job_id.in_(later)))
        .order_by(a.end_time, a.id)
    )
    with store.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(q).mappings()]
        owners: dict[int, Row] = {}
        times: dict[int, list[float]] = {}
        ids = sorted({int(r["job_id"]) for r in runs})
        for i in range(0, len(ids), CHUNK):
            for r in conn.execute(sa.select(jobs).where(jobs.c.id.in_(ids[i : i + CHUNK]))).mappings():
                owners[int(r["id"])] = dict(r)
            for jid, t in conn.execute(sa.select(e.job_id, e.time).where(back, e.job_id.in_(ids[i : i + CHUNK]))):
                times.setdefault(int(jid), []).append(float(t))
    found = []
    for run in runs:
        jid = int(run["job_id"])
        if jid not in owners:
            continue
        # Its requeue: the job's first one at or after its end (a running job's at its end, an ended job's when
        # hal requeue took it back: it was not in the queue in between); records without one went back at the end.
        back_at = min((t for t in times.get(jid, ()) if t >= run["end_time"]), default=run["end_time"])
        if back_at > since:
            found.append({**attempt_row(owners[jid], run), "requeued_at": back_at})
    return found

"""What a trace's data lacks or gets wrong that changes a replay's figures without stopping it: said in the same words
by every tool that reads traces (hal simulate, compare and tune through the workload's notes, hal predict-eval and
hal trace check), from this one module (QA: predict-eval said none of what simulate said)."""

from __future__ import annotations

from collections.abc import Sequence

from hal.sim.swf import SwfRecord, SwfTrace

CANCELLED = 5  # SWF field 11 of a cancelled job
EXPORTED = "exported from HAL's accounting records (hal history --swf)"  # the Installation header of HAL's export

# No scheduler runs a job for a year: a longer run time (field 4) is an error of the trace, most often an end
# timestamp written as a run time (1,700,000,000 s is 54 years). It is replayed as written, as every field is, but
# it holds its processors for all of it, so the makespan grows and utilization falls to nothing (0.667 to 0.011).
LONGEST_RUN = 365 * 86400
SHOWN = 5  # lines named in a note; the rest are counted


def data_notes(trace: SwfTrace) -> list[str]:
    """The notes on the trace's jobs (not its header's: SwfTrace.notes), in the order the tools print them. The
    order notes are hal trace check's, and said by a tool where job ids count: a --window, hal tune's slices."""
    return [note for note in (no_user_ids(trace), long_runs(trace.records)) if note]


def order_notes(records: Sequence[SwfRecord]) -> list[str]:
    """SWF lists jobs by submit time, numbered in that order; a file that does not is replayed by submit time all the
    same, but what counts jobs by line or by id (a --window, hal tune's slices, a predictor's history) sees another
    order."""
    late, first = 0, None
    top, top_line = -1, 0
    for rec in records:
        if rec.submit < top:
            late += 1
            if first is None:
                first = (
                    f"line {rec.line} (job {rec.job_id}) is submitted at {rec.submit}, before line {top_line}'s {top}"
                )
        elif rec.submit > top:
            top, top_line = rec.submit, rec.line
    ids = id_order(records)
    by_id = [f"{ids} (a --window and hal tune's slices count jobs in job-id order: not a stretch of time)"]
    unsorted = (
        f"submit times are not sorted (SWF requires it): {late:,} job(s) are submitted before a job listed above "
        f"them; the first: {first}"
    )
    return [*([unsorted] if late else []), *(by_id if ids else [])]


def no_user_ids(trace: SwfTrace) -> str | None:
    """Every user id unknown (Philly, for one): a per-user predictor then learns from the whole trace."""
    if not trace.records or any(r.user != -1 for r in trace.records):
        return None
    return "no user ids (field 12 is -1 on every job): per-user history (last2, gbm) is the whole trace's"


def long_runs(records: Sequence[SwfRecord]) -> str | None:
    """The jobs whose run time is longer than ``LONGEST_RUN``, by line: replayed as written, and said (QA: one record
    of 1,700,000,000 s took utilization from 0.667 to 0.011 without a word)."""
    longer = [r for r in records if r.run > LONGEST_RUN]
    if not longer:
        return None
    named = "; ".join(
        f"line {r.line}: job {r.job_id} ran {r.run:,} s ({r.run / LONGEST_RUN:,.1f} years)" for r in longer[:SHOWN]
    )
    more = f"; ... and {len(longer) - SHOWN:,} more" if len(longer) > SHOWN else ""
    return (
        f"{len(longer):,} job(s) have a run time (field 4) longer than a year ({LONGEST_RUN:,} s), replayed as "
        f"written: {named}{more}. No scheduler runs a job that long (an end timestamp written as a run time?): each "
        "holds its processors for all of it, so makespan, utilization and waits are those of the error"
    )


def exported_by_hal(trace: SwfTrace) -> bool:
    """Whether the trace is HAL's own accounting (``hal history --swf``): replayed as the live server learned it."""
    return trace.header.get("Installation", "") == EXPORTED


def cancelled(trace: SwfTrace) -> str | None:
    """For a tool whose predictions learn (last2, gbm): whether the trace's cancelled runs are learned, which the
    live server never does (hal.sim.workload.cut_short decides by the trace's origin)."""
    cut = sum(1 for r in trace.records if r.status == CANCELLED)
    if not cut:
        return None
    if exported_by_hal(trace):
        return (
            f"{cut:,} job(s) are recorded cancelled (status 5): each is predicted and replayed, but its run time, "
            "only a lower bound of how long the job takes, is not learned, as the live server learns no cancelled run"
        )
    return (
        f"{cut:,} job(s) are recorded cancelled (status 5): their run times are learned, as the published "
        "predictors learn every run that ends; the live server learns no cancelled run, and a replay of its "
        "exported history (hal history --swf) does as it does"
    )


def id_order(records: Sequence[SwfRecord]) -> str | None:
    """Whether job ids follow submit order (the archive numbers jobs so; a --window and the queue's ties count in
    job-id order): None when they do, else how many jobs are submitted before a lower-numbered one, and the
    first. A repeated id counts by its first record, as the replay keeps it."""
    firsts: dict[int, SwfRecord] = {}
    for rec in records:
        firsts.setdefault(rec.job_id, rec)
    late, first, top = 0, "", None
    for job_id in sorted(firsts):
        rec = firsts[job_id]
        if top is not None and rec.submit < top.submit:
            late += 1
            first = first or (
                f"job {rec.job_id} (line {rec.line}) is submitted at {rec.submit}, before job {top.job_id}'s "
                f"{top.submit}"
            )
        elif top is None or rec.submit > top.submit:
            top = rec
    if not late:
        return None
    return (
        f"job ids are not in submit order: {late:,} job(s) are submitted before a lower-numbered job; the first: "
        f"{first}"
    )


def window_id_note(trace: SwfTrace, window: str, option: str = "--window") -> str | None:
    """A --window's note (hal tune's --train and --test too: QA) when the trace's ids do not follow submit order
    (QA: a trace numbered backwards ran its last 20 submitted jobs for --window 0:20, without a word); the window is
    counted as README says all the same."""
    ids = id_order(trace.records)
    if ids is None:
        return None
    return f"{ids}: {option} {window} counts jobs in job-id order, so it is not a stretch of submit time"

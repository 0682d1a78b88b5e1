"""Turning trace records into job submissions under documented cleaning rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hal.controller.censored import learnable
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import Resources
from hal.sim.swf import Problem, SwfRecord, SwfTrace
from hal.sim.trace_notes import data_notes, exported_by_hal


@dataclass(frozen=True, slots=True)
class Cleaning:
    """How trace records become jobs.

    The default uses fields 4 (run), 5 (processors) and 9 (request) as written, which is the rule the
    pyss reference schedules follow; the usual archive cleaning is a set of switches on top.
    """

    min_runtime: int = 0  # drop jobs whose run time is below this (the usual rule: 1, i.e. run <= 0 dropped)
    procs_fallback: bool = True  # processors = field 5, else field 8 when field 5 is missing
    drop_status: tuple[int, ...] = ()  # e.g. (0, 5) drops failed and cancelled jobs
    missing_request: str = "runtime"  # a missing request (-1) is replaced by "runtime" or "max" (largest seen)
    drop_oversize: bool = True  # jobs larger than the machine are skipped and counted (else: an error)


@dataclass(slots=True)
class Workload:
    jobs: list[JobSpec]
    capacity: int
    skipped: list[Problem] = field(default_factory=list)
    sized_by_largest_job: bool = False  # no --procs and no MaxProcs/MaxNodes header: the CLI says so
    notes: list[str] = field(default_factory=list)  # what the replay reads differently from the file, said once
    cut: frozenset[int] = frozenset()  # jobs killed at their partition's max_time (hal.sim.limits): work lost


# SWF field 11 read back as the end hal history --swf writes it from (hal.sim.accounting.STATUS): 1 completed, 5
# cancelled, 0 failed (every other end); another status (a partial execution, -1 unknown) ended by itself.
SWF_ENDS = {0: "FAILED", 1: "COMPLETED", 5: "CANCELLED"}


def cut_short(status: int, trace: SwfTrace) -> bool:
    """Whether a replay's predictor must not learn a record's run: a cancel (someone ended it) in HAL's own
    exported accounting, as the live server does not learn it (hal.controller.censored decides; QA: an admin
    evaluating the server's predictor on its exported history had two 5 s cancels predict the user's next
    1,000 s job at 5 s). An archive trace's runs are all learned, cancels too, as the published predictors
    (Tsafrir's last2, pyss) learn every run that ends: the figures in benchmarks/RESULTS.md compare with theirs."""
    return exported_by_hal(trace) and not learnable(SWF_ENDS.get(status, "COMPLETED"))


def _procs(rec: SwfRecord, rules: Cleaning) -> int:
    if rec.procs > 0:
        return rec.procs
    if rules.procs_fallback and rec.req_procs > 0:
        return rec.req_procs
    return rec.procs


def first_records(records: Iterable[SwfRecord]) -> tuple[list[SwfRecord], dict[int, list[Problem]]]:
    """Each job id's first record in the file, in job-id order, and the later records of each id, each a Problem
    naming the line kept. Job ids name jobs (dependencies, the queue's tie order, a --window's count), so every tool
    keeps the same record (QA: predict-eval kept the one submitted first and called the first line the repeat)."""
    kept: dict[int, SwfRecord] = {}
    repeats: dict[int, list[Problem]] = {}
    for rec in records:  # in file order
        first = kept.setdefault(rec.job_id, rec)
        if first is not rec:
            where = f"line {first.line}" if first.line > 0 else "an earlier record"
            repeats.setdefault(rec.job_id, []).append(
                Problem(rec.line, f"job {rec.job_id}: the same job id as {where}")
            )
    return sorted(kept.values(), key=lambda r: r.job_id), repeats


def to_workload(trace: SwfTrace, capacity: int | None = None, rules: Cleaning | None = None) -> Workload:
    """Jobs sorted by job id (the queue's tie order), with every skipped record explained."""
    rules = rules or Cleaning()
    cap = capacity or trace.max_procs
    guessed = cap is None
    if cap is None:
        cap = max((_procs(r, rules) for r in trace.records), default=0)
    if cap <= 0:
        if not trace.records:  # an empty trace was told to pass --procs, which would only replay nothing (QA)
            unread = f" ({len(trace.problems):,} line(s) could not be read)" if trace.problems else ""
            raise ValueError(f"the trace has no jobs{unread}: nothing to replay")
        raise ValueError("machine size unknown: the trace has no MaxProcs/MaxNodes header; pass --procs")
    max_req = max((r.req_time for r in trace.records if r.req_time > 0), default=-1)
    jobs: list[JobSpec] = []
    skipped: list[Problem] = []
    kept, repeats = first_records(trace.records)
    loaded: dict[int, int] = {}  # job id -> submit time, of the jobs kept so far (a preceding job must be one)
    unmet: list[int] = []  # jobs whose field 17 names no earlier job kept (itself, a later one, one skipped)
    thinking = unrequested = 0
    for rec in kept:
        skipped += repeats.get(rec.job_id, ())  # listed where their id comes, as before
        line = rec.line
        procs = _procs(rec, rules)
        if procs <= 0:
            skipped.append(Problem(line, f"job {rec.job_id}: no processor count (fields 5 and 8)"))
            continue
        if rec.run < 0 or rec.run < rules.min_runtime:
            skipped.append(Problem(line, f"job {rec.job_id}: run time {rec.run} s (unknown or too short)"))
            continue
        if rec.status in rules.drop_status:
            skipped.append(Problem(line, f"job {rec.job_id}: status {rec.status} dropped by the cleaning rules"))
            continue
        if procs > cap:
            if not rules.drop_oversize:
                raise ValueError(f"job {rec.job_id} needs {procs} processors; the machine has {cap}")
            skipped.append(Problem(line, f"job {rec.job_id}: needs {procs} processors, machine has {cap}"))
            continue
        req, known = rec.req_time, True
        if req <= 0:
            known = rules.missing_request == "max" and max_req > 0  # a bound the trace gives, not this job's run
            req = max_req if known else rec.run
            unrequested += 1
        if rec.preceding > 0 and rec.preceding not in loaded:
            unmet.append(rec.job_id)
        if rec.think_time > 0:
            thinking += 1
        before = loaded.get(rec.preceding)  # SWF field 17: this job starts only after that one has ended
        deps = (
            (Dependency(DependencyKind.AFTERANY, rec.preceding),) if before is not None and before <= rec.submit else ()
        )
        loaded[rec.job_id] = rec.submit
        jobs.append(
            JobSpec(
                job_id=rec.job_id,
                submit_time=float(rec.submit),
                tasks=procs,
                per_task=Resources(cpus=1),
                time_limit=float(req),
                user=f"u{rec.user}",
                group=f"g{rec.group}",
                account=f"g{rec.group}",
                partition="",
                executable=rec.executable,
                queue=rec.queue,
                runtime=float(rec.run),
                dependencies=deps,
                request_known=known,
                cut_short=cut_short(rec.status, trace),
            )
        )
    notes = [*trace.notes, *data_notes(trace)]  # its header's (unknown sizes, conflicts), its jobs' (no users, ...)
    if unmet:
        notes.append(
            f"{len(unmet)} job(s) name in field 17 a preceding job that is not an earlier job of the replay (itself, a "
            f"later one, one skipped or absent), e.g. job {unmet[0]}: they start without waiting for it"
        )
    if unrequested:
        how = "the largest request in the trace" if rules.missing_request == "max" and max_req > 0 else "its run time"
        notes.append(
            f"{unrequested} job(s) have no requested time (field 9): each one's limit is {how} (with --cluster: "
            "its partition's time limit), so --estimate user may plan them with what they will really run; learned "
            "predictions (last2, gbm) never see that stand-in"
        )
    if thinking:
        notes.append(
            f"{thinking} job(s) have a think time (field 18); the replay keeps their submit times and waits only for "
            "the preceding job (field 17), it does not resubmit them that long after it ends"
        )
    return Workload(jobs, cap, skipped, sized_by_largest_job=guessed, notes=notes)

"""Trace records to jobs: the documented cleaning rules and the count of what was skipped and why."""

from __future__ import annotations

import io

import pytest

from hal.model.resources import Resources
from hal.sim.swf import SwfRecord, SwfTrace, read_swf
from hal.sim.workload import Cleaning, to_workload


def rec(jid: int, run: int = 100, procs: int = 4, req_procs: int = -1, req: int = 200, status: int = 1) -> SwfRecord:
    return SwfRecord(jid, jid * 10, -1, run, procs, -1, -1, req_procs, req, -1, status, 7, 2, 5, 1, -1, -1, -1)


def trace(*records: SwfRecord, max_procs: int | None = 16) -> SwfTrace:
    header = {"MaxProcs": str(max_procs)} if max_procs else {}
    return SwfTrace(records=list(records), header=header)


def test_a_record_becomes_a_job() -> None:
    w = to_workload(trace(rec(1)))
    job = w.jobs[0]
    assert w.capacity == 16 and not w.skipped
    assert (job.job_id, job.submit_time, job.tasks, job.per_task, job.time_limit, job.runtime) == (
        1,
        10.0,
        4,
        Resources(cpus=1),
        200.0,
        100.0,
    )
    assert (job.user, job.group, job.executable, job.queue) == ("u7", "g2", 5, 1)


def test_jobs_come_sorted_by_id() -> None:
    assert [j.job_id for j in to_workload(trace(rec(3), rec(1), rec(2))).jobs] == [1, 2, 3]


def test_processor_count_falls_back_to_the_request() -> None:
    w = to_workload(trace(rec(1, procs=-1, req_procs=8), rec(2, procs=-1, req_procs=-1)))
    assert [j.tasks for j in w.jobs] == [8]
    assert [str(p) for p in w.skipped] == ["job 2: no processor count (fields 5 and 8)"]
    strict = to_workload(trace(rec(1, procs=-1, req_procs=8)), rules=Cleaning(procs_fallback=False))
    assert not strict.jobs and len(strict.skipped) == 1


def test_runtime_and_status_rules() -> None:
    records = (rec(1, run=-1), rec(2, run=0), rec(3, status=5), rec(4))
    assert [j.job_id for j in to_workload(trace(*records)).jobs] == [2, 3, 4]
    cleaned = to_workload(trace(*records), rules=Cleaning(min_runtime=1, drop_status=(0, 5)))
    assert [j.job_id for j in cleaned.jobs] == [4]
    assert [str(p) for p in cleaned.skipped] == [
        "job 1: run time -1 s (unknown or too short)",
        "job 2: run time 0 s (unknown or too short)",
        "job 3: status 5 dropped by the cleaning rules",
    ]


def test_oversize_jobs_are_skipped_or_refused() -> None:
    w = to_workload(trace(rec(1, procs=32), rec(2)))
    assert [j.job_id for j in w.jobs] == [2]
    assert [str(p) for p in w.skipped] == ["job 1: needs 32 processors, machine has 16"]
    with pytest.raises(ValueError, match="job 1 needs 32 processors; the machine has 16"):
        to_workload(trace(rec(1, procs=32)), rules=Cleaning(drop_oversize=False))


def test_missing_requests_use_the_runtime_or_the_largest_request() -> None:
    records = (rec(1, run=50, req=-1), rec(2, req=900))
    assert [j.time_limit for j in to_workload(trace(*records)).jobs] == [50.0, 900.0]
    assert [j.time_limit for j in to_workload(trace(*records), rules=Cleaning(missing_request="max")).jobs] == [
        900.0,
        900.0,
    ]


def test_machine_size_from_argument_header_or_largest_job() -> None:
    assert to_workload(trace(rec(1)), capacity=64).capacity == 64
    assert to_workload(trace(rec(1, procs=6), rec(2, procs=3), max_procs=None)).capacity == 6
    with pytest.raises(ValueError, match="the trace has no jobs"):  # not "machine size unknown ... --procs" (QA)
        to_workload(trace(max_procs=None))


def test_skipped_jobs_name_their_real_line_in_the_file() -> None:
    """Bug: a skipped job was reported as "line <job id>", which points at the wrong line of a file
    with a header; now it is the line the record came from (records built in code have none)."""
    good = "1 0 -1 100 4 -1 -1 4 200 -1 1 1 1 -1 1 -1 -1 -1"
    big = "2 5 -1 100 99 -1 -1 99 200 -1 1 1 1 -1 1 -1 -1 -1"
    trace = read_swf(io.StringIO("; MaxProcs: 16\n;\n; note\n" + good + "\n\n" + big + "\n"))
    skipped = to_workload(trace).skipped
    assert [str(p) for p in skipped] == ["line 6: job 2: needs 99 processors, machine has 16"]
    assert [str(p) for p in to_workload(SwfTrace(records=[rec(3, procs=99)]), capacity=16).skipped] == [
        "job 3: needs 99 processors, machine has 16"
    ]


def test_a_repeated_job_id_skips_the_later_record_and_says_where() -> None:
    first, again = rec(1), rec(1, run=5)
    first.line, again.line = 3, 9
    w = to_workload(trace(first, rec(2), again))
    assert [(j.job_id, j.runtime) for j in w.jobs] == [(1, 100.0), (2, 100.0)]
    assert [str(p) for p in w.skipped] == ["line 9: job 1: the same job id as line 3"]


def test_what_the_replay_reads_differently_is_noted() -> None:
    """Field 17 naming a later job, and think times (field 18), were ignored without a word."""
    import dataclasses

    records = [
        rec(1),
        dataclasses.replace(rec(2), preceding=5),  # a later job: no wait
        dataclasses.replace(rec(3), preceding=1, think_time=30),
    ]
    work = to_workload(SwfTrace(records, {"MaxProcs": "16"}))
    assert len(work.jobs) == 3 and not work.jobs[1].dependencies and work.jobs[2].dependencies
    assert "1 job(s) name in field 17 a preceding job that is not an earlier job" in work.notes[0]
    assert "e.g. job 2" in work.notes[0] and "1 job(s) have a think time" in work.notes[1]
    assert not to_workload(SwfTrace([rec(1)], {"MaxProcs": "16"})).notes


def test_a_missing_request_stands_in_for_user_estimates_only() -> None:
    """The run time fills in a missing request (field 9) for user estimates, as the reference simulators do; a
    learned predictor capped at it, or the engine capping predictions at it, knew every job's real end."""
    from hal.engine.predict.basic import LastTwo, UserEstimate

    w = to_workload(trace(rec(1, run=50, req=-1), rec(2, run=1000, req=-1), rec(3, run=70, req=4000)))
    first, second, third = w.jobs
    assert (second.time_limit, second.request_known, second.requested) == (1000.0, False, None)
    assert (third.requested, third.request_known) == (4000.0, True)
    assert UserEstimate().predict(second).point == 1000.0  # the documented convention (noted in w.notes)
    last2 = LastTwo()
    last2.observe(first, 50.0, 60.0)
    last2.observe(third, 5000.0, 6000.0)  # a job may outrun its request in a trace
    assert last2.predict(second).point == 2525.0  # the mean of the user's last two, not capped at its run
    assert any("never see that stand-in" in n for n in w.notes)
    maxed = to_workload(trace(rec(1, req=-1), rec(2, req=900)), rules=Cleaning(missing_request="max"))
    assert maxed.jobs[0].requested == 900.0  # the trace's largest request is a bound it gives, not a leak

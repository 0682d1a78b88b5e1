"""SWF field 9 (Requested Time) of `hal history --swf` is the time the user asked for: a job backfill started with
its limit cut by --time-min asked for its --time (the cut was exported, so a replay planned it shorter than the
user asked); a limit an administrator set by hand is exported as set."""

from __future__ import annotations

from typing import Any

from hal.sim.accounting import to_swf

NODES = {"cluster": "c", "nodes": [{"cpus": 4}], "partitions": [{"name": "batch"}]}


def _job(job_id: int, **kw: Any) -> dict[str, Any]:
    base = {"job_id": job_id, "state": "TIMEOUT", "submit_time": 1000.0, "start_time": 1010.0, "end_time": 1310.0,
            "alloc_cpus": 2, "req_cpus": 2, "time_limit": 300.0, "user": "alice", "partition": "batch"}  # fmt: skip
    return {**base, **kw}


def test_requested_time_is_the_time_asked_not_the_cut() -> None:
    jobs = [
        _job(1, time_lowered=True, time_asked=7200.0),  # backfill cut its 2 h to 5 min (--time-min)
        _job(2, time_lowered=False, time_asked=None),  # hal update TimeLimit=5:00 by an administrator
        _job(3),  # an API record without the detail: its limit
        _job(4, time_lowered=True, time_asked=None),  # cut from no limit at all: none asked
    ]
    _, recs = to_swf(jobs, NODES)
    assert [r.req_time for r in recs] == [7200, 300, 300, -1]

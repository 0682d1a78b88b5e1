"""Accounting records to SWF: every page is read, times are relative, names become numbers, and what the
trace cannot say (a job that never ran) is -1 as the format asks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hal.cli import history
from hal.sim.accounting import partition_names, to_swf
from hal.sim.swf import read_swf

NODES = {"cluster": "c", "nodes": [{"cpus": 4}, {"cpus": 4}], "partitions": [{"name": "batch"}, {"name": "gpu"}]}


def _job(job_id: int, state: str = "COMPLETED", **kw: Any) -> dict[str, Any]:
    base = {"job_id": job_id, "state": state, "submit_time": 1000.0 + job_id, "start_time": 1010.0 + job_id,
            "end_time": 1070.0 + job_id, "alloc_cpus": 2, "req_cpus": 2, "time_limit": 600.0, "req_mem_mb": 512,
            "cpu_seconds": 100.0, "max_rss_mb": 10.0, "user": "alice", "account": "phys", "name": "sim",
            "qos": "normal", "partition": "gpu"}  # fmt: skip
    return {**base, **kw}


class _Pages:
    """The API's list: at most ``limit`` records after ``after``."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs, self.calls = jobs, 0

    def list(self, state: str | None, all_users: bool, after: int | None, limit: int, **_: Any) -> list[Any]:
        self.calls += 1
        return [j for j in self.jobs if after is None or j["job_id"] > after][:limit]

    def nodes(self) -> dict[str, Any]:
        return NODES

    def whoami(self) -> dict[str, Any]:
        return {"user": "root", "admin": True}


def test_export_reads_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "PAGE", 3)
    pages = _Pages([_job(i) for i in range(1, 8)] + [_job(8, "RUNNING", end_time=None)])
    history.export_swf(pages, tmp_path / "t.swf", None, True, {})
    trace = read_swf(tmp_path / "t.swf")
    assert [r.job_id for r in trace.records] == list(range(1, 8)) and pages.calls == 3  # running one left out
    assert trace.max_procs == 8 and partition_names(trace.header) == {1: "batch", 2: "gpu"}


def test_fields() -> None:
    header, recs = to_swf(
        [_job(2, user="bob"), _job(1), _job(3, "CANCELLED", start_time=None, end_time=None, alloc_cpus=0),
         _job(4, "TIMEOUT", partition="batch", qos=None)], NODES)  # fmt: skip
    by_id = {r.job_id: r for r in recs}
    assert [r.job_id for r in recs] == [1, 2, 3, 4] and header["UnixStartTime"] == "1001"
    one = by_id[1]
    assert (one.submit, one.wait, one.run, one.procs, one.req_time, one.status) == (0, 10, 60, 2, 600, 1)
    assert (one.cpu_time, one.mem_used, one.req_mem, one.partition) == (50, 5120, 262144, 2)  # KB per processor
    assert by_id[2].user == 2 and by_id[1].user == 1 and by_id[2].group == 1
    assert (by_id[3].run, by_id[3].wait, by_id[3].procs, by_id[3].status) == (-1, -1, -1, 5)
    assert (by_id[4].status, by_id[4].partition, by_id[4].queue) == (0, 1, -1)
    with pytest.raises(ValueError, match="NUMBER=NAME"):
        partition_names({"HalPartitions": "1=a b"})
    assert partition_names({}) is None


def test_an_array_with_a_limit_and_a_dependency_keeps_both() -> None:
    """The first tasks carry the array's dependency and the rest follow them in lanes, so a replay waits for
    the dependency and runs two at a time (all tasks named the dependency before, and ran at once)."""
    tasks = [
        _job(10 + k, array_job_id=10, array_task_id=k, array_limit=2, dependencies=["afterok:3"]) for k in range(5)
    ]
    _, recs = to_swf([_job(3), *tasks], NODES)
    by_id = {r.job_id: r.preceding for r in recs}
    assert [by_id[10 + k] for k in range(5)] == [3, 3, 10, 11, 12]


def test_a_job_that_waited_for_several_names_the_last_to_end() -> None:
    """SWF has one preceding job: of those it waited for (afterok:A:B, a whole array), the one that ended last,
    so the replay cannot start it before any of them ended (it named the first, which ended earliest)."""
    jobs = [_job(1, end_time=2000.0), _job(2, end_time=5000.0), _job(3, end_time=3000.0),
            _job(9, dependencies=["afterok:1", "afterany:2", "afterok:3", "after:4"])]  # fmt: skip
    _, recs = to_swf(jobs, NODES)
    assert {r.job_id: r.preceding for r in recs}[9] == 2


def test_a_held_job_is_submitted_when_it_was_released() -> None:
    """Time a user kept a job held is not queue wait: a replay submits it at its release, as a --begin job."""
    _, recs = to_swf([_job(1), _job(2, released=1500.0, start_time=1510.0, end_time=1570.0)], NODES)
    by_id = {r.job_id: r for r in recs}
    assert (by_id[2].submit, by_id[2].wait) == (1500 - 1001, 10)


def test_replay_skips_unknown_partition_numbers_and_honours_memory_on_nodes_that_have_it() -> None:
    """Partition 7 of a trace naming 1 and 2 went to the default partition silently, and field 10 (the memory
    a job asked for) was dropped, so jobs that waited for memory live started at once in the replay."""
    from hal.clusterfile import cluster_from_dict
    from hal.sim.accounting import into_partitions
    from hal.sim.swf import SwfRecord, SwfTrace
    from hal.sim.workload import to_workload

    def rec(job_id: int, partition: int, req_mem: int) -> SwfRecord:
        return SwfRecord(job_id, 0, 0, 10, 1, -1, -1, 1, 60, req_mem, 1, 1, 1, 1, -1, partition, -1, -1, line=job_id)

    trace = SwfTrace([rec(1, 1, 1536000), rec(2, 7, -1)], {"MaxProcs": "4", "HalPartitions": "1=batch 2=debug"})
    cluster = cluster_from_dict({"nodes": [{"prefix": "n", "count": 2, "cpus": 2, "mem": "2G"}],
                                 "partitions": [{"name": "batch", "default": True}, {"name": "debug"}]})  # fmt: skip
    workload = into_partitions(to_workload(trace, 4), trace, cluster)
    assert [j.job_id for j in workload.jobs] == [1] and workload.jobs[0].per_task.mem_mb == 1500
    assert "partition number 7 is not in the trace's HalPartitions header" in workload.skipped[0].message
    no_mem = cluster_from_dict({"nodes": [{"prefix": "n", "count": 2, "cpus": 2}]})
    assert into_partitions(to_workload(trace, 4), trace, no_mem).jobs[0].per_task.mem_mb == 0


def test_a_singleton_job_names_the_job_it_waited_for() -> None:
    """hal show prints --dependency=singleton as Slurm does; the SWF export still needs the job it waited for."""
    import json

    from hal.api.views import record

    request = {"dependencies": [["singleton", "1"]], "name": "sim"}
    row = {**_job(9), "id": 9, "request": json.dumps(request)}
    shown = record(row, 2000.0, detail=True)
    assert shown["dependencies"] == ["singleton"]
    _, recs = to_swf([_job(1), {**_job(9), **{k: shown[k] for k in ("dependencies", "waits_on")}}], NODES)
    assert {r.job_id: r.preceding for r in recs}[9] == 1


def test_a_job_that_waited_for_an_array_names_its_last_task_to_end() -> None:
    """afterok:ARRAY waits for every task; the export named the array's id, which is its first task's record, so
    the replay started the dependant after that task alone (QA: 1 s instead of 9 s after submission)."""
    tasks = [_job(137 + k, array_job_id=137, array_task_id=k, end_time=2000.0 + 100 * k) for k in range(3)]
    later = [_job(140, dependencies=["afterok:137"]), _job(141, dependencies=["afterany:137_1"])]
    _, recs = to_swf([*tasks, *later], NODES)
    by_id = {r.job_id: r.preceding for r in recs}
    assert by_id[140] == 139 and by_id[141] == 138

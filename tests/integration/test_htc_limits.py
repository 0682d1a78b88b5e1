"""Service instances run under their application's resources: pinned to their slot's cores, and under its memory
limit (RLIMIT_DATA and the tree watchdog); a task beyond the limit fails with the reason, the others complete."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hal.htc.client import HtcClient, TaskLost
from hal.htc.local import LocalManager


@pytest.fixture(scope="module")
def client() -> Iterator[HtcClient]:
    with LocalManager(cpus=2) as c:
        c.register_app("cores", "hal.htc.examples:cores", max_instances=2)
        c.register_app("hog", "hal.htc.examples:hog", mem_mb=200, max_instances=2, max_retries=1)
        c.register_app("kids", "hal.htc.examples:hog_children", mem_mb=150, max_instances=1, max_retries=0)
        yield c


def test_instances_are_pinned_to_distinct_cores(client: HtcClient) -> None:
    host = sorted(os.sched_getaffinity(0))
    with client.session("cores", slots=2) as s:
        seen = {tuple(cores) for cores in s.map([0.15] * 12)}
    assert all(len(cores) == 1 and cores[0] in host for cores in seen), seen
    assert len(seen) == min(2, len(host)), seen  # two slots of one CPU: two different cores


def test_task_beyond_the_memory_limit_fails_with_the_reason_and_the_others_complete(client: HtcClient) -> None:
    with client.session("hog", slots=2) as s:
        before = [s.submit(8) for _ in range(20)]
        big = s.submit(400)
        after = [s.submit(8) for _ in range(20)]
        with pytest.raises(TaskLost, match=r"exceeded its memory limit \(200 MiB\).*gave up after 2 attempts"):
            big.result(timeout=60)
        assert [f.result(timeout=60) for f in before + after] == [8] * 40
    row = [r for r in client.sessions() if r["app"] == "hog"][-1]
    assert row["done"] == 40 and row["failed"] == 1 and row["retried"] == 2


def test_watchdog_stops_an_instance_whose_process_tree_holds_too_much(client: HtcClient) -> None:
    with client.session("kids", slots=1) as s:
        fut = s.submit((100, 30.0))  # each child stays under the per-process rlimit; together they do not
        with pytest.raises(TaskLost, match=r"exceeded its memory limit \(150 MiB\).*watchdog"):
            fut.result(timeout=60)
        assert s.submit((1, 0.0)).result(timeout=60) == 0  # a new instance serves the session


def test_an_instance_too_big_for_the_machine_is_refused_at_registration(client: HtcClient) -> None:
    """It was registered, and each session's tasks then failed with TaskLost: the machine is known (changing it
    takes a restart), so the admin hears it when registering, as Symphony refuses such a profile."""
    with pytest.raises(RuntimeError, match=r"'huge' refused: .*\(8 CPUs, no memory limit per instance\) can never"):
        client.register_app("huge", "hal.htc.examples:noop", cpus=8)
    assert "huge" not in [a.name for a in client.apps()]
    with pytest.raises(RuntimeError, match="unknown application 'huge'"):
        client.session("huge")

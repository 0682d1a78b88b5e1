"""The --switches wait (and a data delay) counts from when the job could first start: its release, its met
dependencies or its --begin. A `hal update` of the pending job or a server restart counted it from submission
again, so a job held longer than its wait lost --switches at once and was spread over several switches (QA)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from hal.controller.directives import build_request
from hal.controller.drain import drain
from hal.controller.holds import set_hold
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN, ALTERNATING, controller, submit

BUSY = "node[01-02,09-10]"  # one node of each leaf switch: no switch has the four nodes the job needs


def _fake_clock(ctl: Any, start: float) -> list[float]:
    now = [start]
    ctl.clock = lambda: now[0]
    return now


def _state(ctl: Any, job: int) -> str:
    return str(ctl.live[job].state) if job in ctl.live else str((ctl.store.get(job) or {}).get("state"))


def test_an_update_after_a_release_keeps_the_switch_wait_counted_from_the_release(tmp_path: Path) -> None:
    with controller(tmp_path, ALTERNATING) as ctl:
        now = _fake_clock(ctl, ctl.clock())
        drain(ctl, BUSY, "pinned", ADMIN)
        job = submit(ctl, tmp_path, nodes="4", exclusive="1", switches="1@1:00", time="1:00", hold="1")
        now[0] += 65.0  # held longer than its wait
        set_hold(ctl, str(job), ADMIN, held=False)
        ctl.run_cycle()
        assert _state(ctl, job) == "PENDING"  # 0 s of its 60 s wait used
        now[0] += 5.0
        update(ctl, str(job), ADMIN, {"TimeLimit": "2:00"})
        ctl.run_cycle()
        assert _state(ctl, job) == "PENDING"  # it started at once over two switches
        assert ctl.sched.reason_of(job).value == "Topology"
        now[0] += 60.0  # the wait, counted from the release, is over
        ctl.run_cycle()
        assert _state(ctl, job) == "RUNNING"


def test_a_restart_keeps_the_switch_wait_counted_from_the_release(tmp_path: Path) -> None:
    with controller(tmp_path, ALTERNATING) as ctl:
        real = ctl.clock()
        now = _fake_clock(ctl, real - 400.0)  # submitted 400 s ago, released 50 s ago
        drain(ctl, BUSY, "pinned", ADMIN)
        job = submit(ctl, tmp_path, nodes="4", exclusive="1", switches="1@5:00", time="1:00", hold="1")
        now[0] = real - 50.0
        set_hold(ctl, str(job), ADMIN, held=False)
        ctl.run_cycle()
        assert _state(ctl, job) == "PENDING"
    with controller(tmp_path, ALTERNATING) as ctl:  # restarted: 250 s of its 300 s wait are left
        ctl.run_cycle()
        assert _state(ctl, job) == "PENDING"
        assert ctl.sched.reason_of(job).value == "Topology"


def test_a_data_delay_and_a_switch_wait_count_from_the_latest_of_release_dependencies_and_begin() -> None:
    """Both read the engine request's start (engine/plugins/data_delay.py, topology.py)."""
    from hal.controller.jobs import waiting_since
    from hal.engine.request import request_of
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec
    from hal.model.resources import Resources

    space = NodeTable.of(Cluster.uniform(2, Resources(cpus=2, mem_mb=100))).space
    spec = JobSpec(1, 100.0, inputs=("reads",), switches=1, switches_wait=60.0)
    assert request_of(waiting_since(spec, {"_released": 150.0, "_eligible": 170.0}), space).submit == 170.0
    assert request_of(waiting_since(spec, {}), space).submit == 100.0
    later = JobSpec(1, 100.0, begin_time=200.0, inputs=("reads",))
    assert request_of(waiting_since(later, {"_released": 150.0}), space).submit == 200.0


def _dependant(ctl: Any, tmp: Path, now: list[float], wait: str) -> int:
    """A 4-node --switches job waiting on a held job, whose cancellation meets its afterany dependency."""
    first = submit(ctl, tmp, nodes="1", time="1:00", hold="1")
    job = submit(ctl, tmp, nodes="4", exclusive="1", switches=f"1@{wait}", time="1:00", dependency=f"afterany:{first}")
    ctl.run_cycle()
    ctl.cancel(str(first), ADMIN)
    ctl.run_cycle()  # its dependency met: its wait starts now
    assert _state(ctl, job) == "PENDING"
    return job


def test_an_update_after_dependencies_are_met_keeps_the_switch_wait_counted_from_then(tmp_path: Path) -> None:
    with controller(tmp_path, ALTERNATING) as ctl:
        now = _fake_clock(ctl, ctl.clock())
        drain(ctl, BUSY, "pinned", ADMIN)
        job = _dependant(ctl, tmp_path, now, "1:00")
        now[0] += 50.0
        update(ctl, str(job), ADMIN, {"TimeLimit": "2:00"})
        ctl.run_cycle()
        assert _state(ctl, job) == "PENDING"
        now[0] += 15.0  # 65 s since its dependency was met: the wait is over (it began again at the update)
        ctl.run_cycle()
        assert _state(ctl, job) == "RUNNING"


def test_a_restart_keeps_the_switch_wait_counted_from_when_dependencies_were_met(tmp_path: Path) -> None:
    with controller(tmp_path, ALTERNATING) as ctl:
        real = ctl.clock()
        now = _fake_clock(ctl, real - 400.0)  # its dependency met 400 s ago; its wait is 300 s
        drain(ctl, BUSY, "pinned", ADMIN)
        job = _dependant(ctl, tmp_path, now, "5:00")
    with controller(tmp_path, ALTERNATING) as ctl:  # restarted: the wait is over, not begun again
        ctl.run_cycle()
        assert _state(ctl, job) == "RUNNING"


def test_a_dependency_that_ended_while_no_server_ran_starts_the_switch_wait_at_its_end(tmp_path: Path) -> None:
    """Slurm's EligibleTime is when the dependency ended, not when a restarted controller found it ended: the
    wait counted from the restart again."""
    stop = tmp_path / "stop"
    script = f"#!/bin/sh\nuntil [ -f {stop} ]; do sleep 0.05; done\n"
    with controller(tmp_path, ALTERNATING, executor="local") as ctl:
        drain(ctl, BUSY, "pinned", ADMIN)
        opts = {"nodes": "1", "time": "1:00", "nodelist": "node03"}
        request = build_request(script, opts, {}, str(tmp_path), 0)
        first = int(ctl.submit(request, "root").job_ids[0])
        job = submit(ctl, tmp_path, nodes="4", exclusive="1", switches="1@1:00", dependency=f"afterany:{first}")
        ctl.run_cycle()
        assert _state(ctl, first) == "RUNNING" and _state(ctl, job) == "PENDING"
    stop.touch()  # it ends while no server runs
    record, deadline = tmp_path / "home" / "spool" / "jobs" / str(first) / "record.json", time.monotonic() + 10
    while not record.exists():
        assert time.monotonic() < deadline, "the first job never ended"
        time.sleep(0.02)
    with controller(tmp_path, ALTERNATING, executor="local") as ctl:  # restarted 100 s after that end
        end = float((ctl.store.get(first) or {})["end_time"])
        _fake_clock(ctl, end + 100.0)
        ctl.run_cycle()  # 100 s since its dependency ended: its 60 s wait is over, it takes two switches
        assert _state(ctl, job) == "RUNNING"
        assert float(json.loads((ctl.store.get(job) or {})["request"])["_eligible"]) == end
        ctl.cancel(str(job), ADMIN)

"""QA (LOW): with a long charge_period, `hal prio` (and %Q, `hal show`'s Priority=, which read it) computed the fair
share from the usage up to now while the queue was ordered by the usage charged every charge_period: they disagreed
with the order the scheduler used. They now show the values the last cycle ordered by (sprio's meaning)."""

from __future__ import annotations

import time
from pathlib import Path

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.priority import priorities
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"  # 4 nodes x 2 CPUs


def test_prio_shows_the_priorities_the_queue_was_ordered_by(tmp_path: Path) -> None:
    now = [time.time()]
    store = Store(sqlite_url(tmp_path / "hal.db"))
    executor = LocalExecutor(tmp_path / "spool", kill_wait=1.0)
    profile = Profile(order="multifactor", charge_period=300.0, order_args={"max_age": 3600.0})
    ctl = Controller(store, Machine.load(EXAMPLE), executor, profile, clock=lambda: now[0])
    recover(ctl)

    def submit(user: str, ntasks: int) -> int:
        req = build_request("#!/bin/sh\nexec sleep 120\n", {"ntasks": str(ntasks)}, {}, str(tmp_path), 0)
        return int(ctl.submit(req, user).job_ids[0])

    try:
        submit("alice", 2)
        ctl.run_cycle()  # alice's job runs; usage is charged now and again in 300 s
        waiting = {submit("alice", 8): "alice", submit("bob", 8): "bob"}
        now[0] += 120.0
        ctl.run_cycle()  # no charge due: the queue is ordered as if alice had used nothing yet
        got = [j for j in priorities(ctl, Identity("root", admin=True))["jobs"] if j["job_id"] in waiting]
        fairshare = {waiting[j["job_id"]]: j["factors"]["fairshare"] for j in got}
        assert fairshare["alice"] == fairshare["bob"]  # it showed alice's 240 CPU-seconds (0.5 against 1.0)
        assert [j["job_id"] for j in got] == sorted(waiting)  # as the queue: equal priorities, the older first
        assert [j for j in ctl.sched.positions() if j in waiting] == sorted(waiting)
        assert all(j["factors"]["age"] == round(1000 * 120 / 3600, 2) for j in got)  # aged to the cycle's time
        now[0] += 300.0
        ctl.run_cycle()  # charged: alice's share is now below bob's, as she sees it too (split among all users)
        admin = {j["job_id"]: j for j in priorities(ctl, Identity("root", admin=True))["jobs"]}
        hers = {j["job_id"]: j for j in priorities(ctl, Identity("alice", admin=False))["jobs"]}
        assert set(hers) < set(admin) and all(hers[j]["factors"] == admin[j]["factors"] for j in hers)
        assert admin[min(waiting)]["factors"]["fairshare"] < admin[max(waiting)]["factors"]["fairshare"]
    finally:
        executor.shutdown(cancel_running=True)
        store.close()


def test_a_large_nice_shows_priority_one_not_below(tmp_path: Path) -> None:
    """Slurm keeps a pending job's priority at 1 or more (0 is a held job's): %Q and hal show read this value."""
    store = Store(sqlite_url(tmp_path / "hal.db"))
    executor = LocalExecutor(tmp_path / "spool", kill_wait=1.0)
    ctl = Controller(store, Machine.load(EXAMPLE), executor, Profile(order="multifactor"))
    recover(ctl)
    try:
        req = build_request("#!/bin/sh\nexec sleep 120\n", {"ntasks": "8", "nice": "100000"}, {}, str(tmp_path), 0)
        req2 = build_request("#!/bin/sh\nexec sleep 120\n", {"ntasks": "8", "hold": ""}, {}, str(tmp_path), 0)
        ctl.submit(build_request("#!/bin/sh\nexec sleep 120\n", {"ntasks": "8"}, {}, str(tmp_path), 0), "alice")
        nice, held = str(ctl.submit(req, "alice").job_ids[0]), str(ctl.submit(req2, "alice").job_ids[0])
        ctl.run_cycle()
        got = {str(j["job_id"]): j for j in priorities(ctl, Identity("root", admin=True))["jobs"]}
        assert got[nice]["priority"] == 1.0 and sum(got[nice]["factors"].values()) < 0  # it showed -99,xxx
        assert got[held]["priority"] == 0.0
    finally:
        executor.shutdown(cancel_running=True)
        store.close()

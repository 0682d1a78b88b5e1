"""QA (HIGH): a user running jobs for minutes showed RawUsage 0 in `hal shares` and the FAIRSHARE factor of an
idle user in `hal prio`: usage was charged only when a job ended. It now accrues while jobs run (engine/accrual.py),
and a controller restarted under a running job charges its run once: neither lost nor charged twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.priority import priorities, shares
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"  # 4 nodes x 2 CPUs
ADMIN = Identity("root", admin=True)


def _controller(tmp: Path, clock: Callable[[], float], profile: Profile | None = None) -> Controller:
    """A controller on ``tmp``'s records, recovered as at a restart; its loop does not run (cycles by hand)."""
    store = Store(sqlite_url(tmp / "hal.db"))
    executor = LocalExecutor(tmp / "spool", kill_wait=1.0)
    ctl = Controller(store, Machine.load(EXAMPLE), executor, profile, clock=clock)
    recover(ctl)
    return ctl


def _submit(ctl: Controller, tmp: Path, user: str, ntasks: int) -> int:
    req = build_request("#!/bin/sh\nexec sleep 120\n", {"ntasks": str(ntasks), "account": "physics"}, {}, str(tmp), 0)
    return int(ctl.submit(req, user).job_ids[0])


def _stop(ctl: Controller) -> None:
    """The test is over: its jobs are killed, its records closed."""
    assert isinstance(ctl.executor, LocalExecutor)
    ctl.executor.shutdown(cancel_running=True)
    ctl.store.close()


def _usage(ctl: Controller) -> dict[str, float]:
    return {r["user"]: r["raw_usage"] for r in shares(ctl, ADMIN)["users"]}


def _fairshare(ctl: Controller) -> dict[str, float]:
    return {j["user"]: j["factors"]["fairshare"] for j in priorities(ctl, ADMIN)["jobs"]}


def test_usage_grows_while_a_job_runs_and_a_restart_charges_it_once(tmp_path: Path) -> None:
    now = [time.time()]
    ctl = _controller(tmp_path, lambda: now[0])
    job = _submit(ctl, tmp_path, "alice", 2)
    ctl.run_cycle()
    again: Controller | None = None
    try:
        assert (ctl.store.get(job) or {})["state"] == "RUNNING"
        for user in ("alice", "bob"):  # 8 CPUs each: they wait while alice's job holds 2
            _submit(ctl, tmp_path, user, 8)
        ctl.run_cycle()
        assert _usage(ctl) == {"alice": 0.0, "bob": 0.0}
        assert _fairshare(ctl)["alice"] == _fairshare(ctl)["bob"]  # nobody used anything yet

        now[0] += 540.0  # 9 minutes, QA's repro: the running job is charged before it ends
        assert _usage(ctl)["alice"] == pytest.approx(2 * 540.0, abs=0.2)  # shown up to now, between charges
        ctl.run_cycle()  # a charge is due (every 5 minutes)
        assert ctl.sched.ledger.usage(now[0])["alice"] == pytest.approx(2 * 540.0, rel=1e-6)
        assert ctl.accounts.usage(now[0])["physics"] == pytest.approx(2 * 540.0, rel=1e-6)
        assert _usage(ctl) == pytest.approx({"alice": 1080.0, "bob": 0.0}, abs=0.2)
        fs = _fairshare(ctl)
        assert fs["alice"] < fs["bob"]  # alice's pending job now comes after bob's
        now[0] += 120.0
        ctl.run_cycle()  # no charge due: the order weighs the 9 minutes, `hal shares` shows 11
        assert ctl.sched.ledger.usage(now[0])["alice"] == pytest.approx(1080.0, rel=1e-3)  # decayed 2 minutes
        assert _usage(ctl)["alice"] == pytest.approx(2 * 660.0, abs=1.0)

        # the controller dies (kill -9: its job keeps running) and a new one starts on the same records
        ctl.executor.shutdown()
        ctl.store.close()
        now[0] += 60.0
        again = _controller(tmp_path, lambda: now[0])
        assert again.sched.running[job].start == (ctl.store.get(job) or {})["start_time"]
        assert _usage(again)["alice"] == pytest.approx(2 * 720.0, abs=0.2)  # not lost, not twice
        again.run_cycle()  # the first charge: all its 12 minutes, once
        assert again.sched.ledger.usage(now[0])["alice"] == pytest.approx(2 * 720.0, rel=1e-6)
        assert again.accounts.usage(now[0])["physics"] == pytest.approx(2 * 720.0, rel=1e-6)
        now[0] += 300.0
        again.run_cycle()
        assert again.sched.ledger.usage(now[0])["alice"] == pytest.approx(2 * 1020.0, rel=1e-3)
        assert _fairshare(again)["alice"] < _fairshare(again)["bob"]
    finally:
        _stop(ctl if again is None else again)


def test_a_job_is_charged_its_run_once_in_all(tmp_path: Path) -> None:
    """On the real clock, charged at every cycle: when it ends, the user was charged its elapsed time x CPUs, as the
    records say (what a restart recharges), not that plus the pieces charged while it ran."""
    ctl = _controller(tmp_path, time.time, Profile(order="multifactor", charge_period=0.0))
    req = build_request("#!/bin/sh\nsleep 0.6\n", {"ntasks": "2", "account": "physics"}, {}, str(tmp_path), 0)
    job = int(ctl.submit(req, "alice").job_ids[0])
    try:
        deadline = time.monotonic() + 30
        charged = []
        while ctl.live and time.monotonic() < deadline:
            ctl.run_cycle()
            ctl._handle(ctl.executor.events())
            charged.append(ctl.sched.ledger.usage(time.time()).get("alice", 0.0))
            time.sleep(0.05)
        assert not ctl.live
        row = ctl.store.get(job) or {}
        assert row["state"] == "COMPLETED"
        assert sum(0 < c < charged[-1] for c in charged) >= 3  # charged in pieces while it ran
        spent = (row["end_time"] - row["start_time"]) * 2
        now = time.time()
        assert ctl.sched.ledger.usage(now)["alice"] == pytest.approx(spent, rel=1e-4)
        assert ctl.accounts.usage(now)["physics"] == pytest.approx(spent, rel=1e-4)
        again = _controller(tmp_path, time.time)  # recharged from the records: the same, once
        assert again.sched.ledger.usage(now)["alice"] == pytest.approx(spent, rel=1e-4)
        _stop(again)
    finally:
        _stop(ctl)

"""Accounting and fair share: ended jobs charge their user and account, and a restarted controller
recharges the same decayed usage from the stored records (so multifactor priority survives restarts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.executors.local import LocalExecutor

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def _controller(tmp: Path) -> Controller:
    store = Store(sqlite_url(tmp / "hal.db"))
    ctl = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp / "spool", kill_wait=1.0))
    recover(ctl)
    return ctl


def test_usage_is_charged_and_survives_a_restart(tmp_path: Path) -> None:
    ctl = _controller(tmp_path)
    ctl.start()
    for user, account, n in (("alice", "physics", 2), ("bob", "chem", 1)):
        req = build_request("#!/bin/sh\nsleep 0.3\n", {"ntasks": str(n), "account": account}, {}, str(tmp_path), 0)
        ctl.submit(req, user)
    deadline = time.monotonic() + 30
    while ctl.live and time.monotonic() < deadline:
        time.sleep(0.05)
    ctl.stop()
    assert not ctl.live
    now = time.time()
    users, accounts = ctl.sched.ledger.usage(now), ctl.accounts.usage(now)
    rows = ctl.store.query()
    assert all(r["state"] == "COMPLETED" and r["end_time"] > r["start_time"] for r in rows)
    assert sorted(r["alloc_cpus"] for r in rows) == [1, 2]
    for r in rows:  # charged: elapsed x allocated cpus, to the user and to the account (decay is negligible)
        cpu_s = (r["end_time"] - r["start_time"]) * r["alloc_cpus"]
        assert users[r["user"]] == pytest.approx(cpu_s, rel=0.05)
        assert accounts[r["account"]] == pytest.approx(cpu_s, rel=0.05)
    again = _controller(tmp_path)
    after = again.sched.ledger.usage(now)
    assert after["alice"] == pytest.approx(users["alice"], rel=0.2)
    assert again.accounts.usage(now)["physics"] == pytest.approx(accounts["physics"], rel=0.2)

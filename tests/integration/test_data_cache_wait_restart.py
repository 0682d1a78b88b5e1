"""A job held for node-cache room (CacheWait) across a controller restart: the wake-up when room frees was kept
in memory only, so a restarted controller left it to wait out its whole back-off (up to 16 x cache_wait) with
the caches free. Restarted as `hal server` starts (the data plane, then the records, then ``resume``), with
real job processes that outlive the old controller."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live import LiveStaging
from hal.data.live_config import enable
from hal.executors.local import LocalExecutor
from tests.integration.test_data_live import CLUSTER

DATA = {"cache_bytes": "1M", "cache_wait": 120, "max_requeues": 0}  # one 700 kB input fills a node's cache


def _start(tmp_path: Path) -> tuple[Controller, LiveStaging]:
    """A controller on ``tmp_path``'s records and spool, started as `hal server` builds one."""
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    staging = enable(ctl, {"cache_dir": str(tmp_path / "cache" / "{node}"), "catalog": str(tmp_path / "cat.json"),
                           **DATA})  # fmt: skip
    recover(ctl)
    staging.resume(ctl, since=0.0)
    ctl.start()
    return ctl, staging


def _stop(ctl: Controller, staging: LiveStaging) -> None:
    """The controller goes away; its jobs' processes run on under their supervisors."""
    ctl.stop()
    staging.shutdown()
    ctl.executor.shutdown()


def _until(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("pin_ends", ["after the restart", "while no controller runs"])
def test_a_job_waiting_for_cache_room_is_woken_after_a_restart(tmp_path: Path, pin_ends: str) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl, staging = _start(tmp_path)
    for name in ("first", "second"):
        src = tmp_path / "store" / name
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(name.encode()[:1] * 700_000)
        staging.stager.catalog.register_file(name, str(src))
    try:
        both = {"input-data": "first", "nodes": "2", "ntasks-per-node": "1"}  # pins 700 kB of each 1 MB cache
        script = f"#!/bin/sh\nwhile [ ! -e {tmp_path / 'go'} ]; do sleep 0.05; done\n"
        (pin,) = ctl.submit(build_request(script, both, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: (ctl.store.get(pin) or {}).get("state") == "RUNNING" and pin not in staging.staging, "pinned")
        (reader,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "second"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        waiting = lambda: (ctl.store.get(reader) or {}).get("cause") == "waiting for cache room"  # noqa: E731
        _until(waiting, "the reader never waited for cache room")
        assert ctl.annotate([ctl.store.get(reader) or {}])[0]["reason"] == "CacheWait"
        _stop(ctl, staging)
        if pin_ends == "while no controller runs":
            (tmp_path / "go").touch()
            _until((tmp_path / "spool" / "jobs" / str(pin) / "record.json").exists, "the pinning job never ended")
        ctl, staging = _start(tmp_path)
        assert staging.cache_waits == {reader: 1}  # found again, with its one wait (its back-off keeps doubling)
        if pin_ends == "after the restart":
            assert ctl.annotate([ctl.store.get(reader) or {}])[0]["reason"] == "CacheWait"
        (tmp_path / "go").touch()  # after the restart: its inputs are unpinned by this controller
        _until(lambda: reader not in ctl.live, "the reader waited out its 120 s back-off with the caches free")
    finally:
        (tmp_path / "go").touch()
        _stop(ctl, staging)
    row = ctl.store.get(reader) or {}
    assert row["state"] == "COMPLETED" and row["restarts"] == 0, row

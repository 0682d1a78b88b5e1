"""Room a failed stage-out's kept output holds in a node cache (QA MEDIUM-2): a job waiting for it (CacheWait) is
told whose output holds it and until when, forecast to start when the keep window ends (not seconds away), and
woken at once when the output goes (it slept out its back-off: ``wake_waiters`` ran only when inputs were
unpinned)."""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from pathlib import Path
from typing import Any

from hal.controller.cache_forecast import cache_why, room_for, wait_for_room
from hal.controller.directives import build_request
from hal.data.cache_wait import WAIT_CAUSE
from hal.data.catalog import Dataset
from hal.data.kept_room import recount
from tests.integration.test_data_stage_out import _controller, _until

MB = 1 << 20
KEPT = 90  # the ended job whose output each cache keeps (no record: the start's, never the sweep's, to remove)


def _waiting(tmp_path: Path) -> tuple[Any, Any, int]:
    """A started controller whose every node cache (4M) keeps 3M of job KEPT's output, and a job waiting for room
    for its 2M input."""
    ctl, staging = _controller(tmp_path)
    stager = staging.stager
    for node in stager.caches:
        (stager.open_job_dir(KEPT, node, ()) / "out").write_bytes(b"o" * (3 * MB))
    staging.resumed.set()
    recount(staging, ctl)  # as the watcher's pass counts them
    src = tmp_path / "big"
    src.write_bytes(b"b" * (2 * MB))
    stager.catalog.register(Dataset("big", 2 * MB, "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest(), str(src)))
    ctl.start()
    (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "big"}, {}, str(tmp_path), 0), "al").job_ids

    def waits() -> bool:
        row = ctl.store.get(job) or {}
        return row.get("state") == "PENDING" and row.get("cause") == WAIT_CAUSE

    _until(waits, timeout=20)
    assert waits(), ctl.store.get(job)
    return ctl, staging, job


def test_a_kept_output_holding_the_room_is_named_and_the_start_waits_for_its_expiry(tmp_path: Path) -> None:
    ctl, staging, job = _waiting(tmp_path)
    try:
        keep = staging.stager.keep_failed_outputs
        with ctl.lock:
            now = ctl.clock()
            room = room_for(ctl.sched, ctl, ctl.sched.held[job], now)
            assert room.when >= now + keep - 60, (room, now)  # not seconds away: when the keep window ends
            why = cache_why(ctl, job, now)
            assert why is not None and f"job {KEPT}'s failed output" in why and "until " in why, why
            assert "3,145,728 bytes" in why, why
            snap = ctl.sched.clone(history=False)
            assert wait_for_room(snap, ctl, now) == {}
            assert (snap.held[job].spec.begin_time or 0) >= now + keep - 60  # the forecast starts it then
            staging.stager.keep_failed_outputs = 0.0  # kept for good: no start to forecast, and why
            unknown = wait_for_room(ctl.sched.clone(history=False), ctl, now)
            assert f"job {KEPT}'s failed output" in unknown[job] and "for good" in unknown[job], unknown
            assert math.isinf(room_for(ctl.sched, ctl, ctl.sched.held[job], now).when)
    finally:
        ctl.stop()
        staging.shutdown()


def test_removing_the_kept_output_wakes_the_waiting_job(tmp_path: Path) -> None:
    ctl, staging, job = _waiting(tmp_path)
    try:
        for cache in staging.stager.caches.values():
            shutil.rmtree(cache.root / ".jobs" / str(KEPT))  # its owner took it
        woke = time.monotonic()
        recount(staging, ctl)  # the watcher's pass finds the room free
        _until(lambda: (ctl.store.get(job) or {}).get("state") not in ("PENDING", None), timeout=10)
        assert (ctl.store.get(job) or {}).get("state") != "PENDING"  # woken, not after its 30 s back-off
        assert time.monotonic() - woke < staging.cache_wait
    finally:
        ctl.stop()
        staging.shutdown()


def test_hal_show_says_the_kept_output_holds_the_room(tmp_path: Path) -> None:
    """hal show's Why= (and hal explain's why:) name the kept output, through the API's record; they said "the node
    caches are full of running jobs' inputs" with nothing running."""
    from hal.api.views import record
    from hal.cli.show import advice_for

    ctl, staging, job = _waiting(tmp_path)
    try:
        (row,) = ctl.annotate([ctl.store.get(job)])
        why = advice_for(record(row, ctl.clock(), detail=True))
        assert f"job {KEPT}'s failed output" in why and "running jobs' inputs" not in why, why
    finally:
        ctl.stop()
        staging.shutdown()

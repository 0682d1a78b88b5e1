"""QA: one job whose input no cache disk could hold (400 MB on caches in a 300 MB tmpfs, cache_bytes = "3G")
drained every node in turn with "data cache unusable: ... No space left on device", leaving the cluster with none.
Now a full disk too small for the inputs is the job's stage-in failure (retried per [data] max_requeues, then
FAILED with the sizes), and a job whose stage-in drains a second node is requeued held for an administrator
(JobHeldAdmin), as Slurm's "launch failed requeued held". Real files, a real controller and local executor; the
full disk is the kernel's own ENOSPC (/dev/full)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live import LiveStaging
from hal.data.live_config import enable
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree
from tests.integration.full_disk import FullDiskFS, big_dataset, needs_dev_full

pytestmark = needs_dev_full


def _controller(tmp_path: Path, nodes: int, data: dict[str, object]) -> tuple[Controller, LiveStaging]:
    (tmp_path / "c.toml").write_text(switch_tree("four", "vn", nodes, 2, "1G", 2))
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    cache = tmp_path / "cache"
    FullDiskFS.reset(lambda target: target.startswith(str(cache)))
    return ctl, enable(ctl, {"cache_dir": str(cache / "{node}"), "catalog": str(tmp_path / "cat.json"), **data})


def _dataset(tmp_path: Path, staging: LiveStaging) -> int:
    return big_dataset(tmp_path, staging.stager.catalog)[0]


def _wait(check: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_disk_too_small_for_the_inputs_fails_the_job_and_drains_no_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"cache_bytes": "32M", "attempts": 3, "backoff": 0.01, "max_requeues": 0}
    ctl, staging = _controller(tmp_path, 2, data)
    size = _dataset(tmp_path, staging)
    real = shutil.disk_usage
    cache = str(tmp_path / "cache")

    def small_disk(path: Any) -> Any:  # the caches' filesystem: 1 MB free, less than the input
        got = real(path)
        return type(got)(got.total, got.used, 1_000_000) if str(path).startswith(cache) else got

    monkeypatch.setattr(shutil, "disk_usage", small_disk)
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "big"}, {}, str(tmp_path), 0)
        (job,) = ctl.submit(req, "al").job_ids
        ended = _wait(lambda: job not in ctl.live)
    finally:
        ctl.stop()
        staging.shutdown()
    row = ctl.store.get(job) or {}
    assert ended and row["state"] == "FAILED", row  # its own failure: max_requeues = 0 fails it at once
    assert not ctl.drained, ctl.drained  # no node blamed
    cause = str(row["cause"])
    assert "cannot hold the job's inputs" in cause and f"{size:,} bytes to copy" in cause, cause
    assert "1,000,000 bytes free" in cause and f"cache_bytes is {32 * 2**20:,}" in cause, cause
    assert not FullDiskFS.filled  # refused before any copy or eviction: the disk could never give it the room
    # a disk full for now, not too small: a failed stage-in per max_requeues, the node not excluded for good
    assert "excluded for this job" not in str(ctl.store.events_of(job))


def test_a_job_whose_stage_in_drained_two_nodes_is_requeued_held(tmp_path: Path) -> None:
    data = {"cache_bytes": "32M", "attempts": 3, "backoff": 0.01, "max_requeues": 2, "requeue_wait": 600}
    ctl, staging = _controller(tmp_path, 4, data)
    _dataset(tmp_path, staging)
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "big"}, {}, str(tmp_path), 0)
        (job,) = ctl.submit(req, "al").job_ids
        held = _wait(lambda: job in ctl.live and ctl.live[job].spec.held and job not in staging.staging)
        time.sleep(0.5)  # nothing more is drained once it is held
        with ctl.lock:
            reason, drained = ctl.reason(job), dict(ctl.drained)
    finally:
        ctl.stop()
        staging.shutdown()
    assert held and len(drained) == 2, (held, sorted(drained))  # two of four, not every node
    assert reason == "JobHeldAdmin"  # as an administrator's hold: hal release by an admin
    row = ctl.store.get(job) or {}
    assert row["state"] == "PENDING" and row["restarts"] == 0, row
    cause = str(row["cause"])
    assert cause.startswith("launch failed requeued held") and "drained 2 nodes" in cause, cause
    assert "No space left on device" in cause, cause
    request = json.loads(row["request"])
    assert request["hold"] is True and request["hold_admin"] is True  # a restart holds it again
    assert len(FullDiskFS.filled) == 2

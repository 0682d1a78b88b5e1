"""A node's cache that breaks during a copy (its disk fills up): the stage-in was counted as a failed transfer
against the job (retried, then requeued with a restart and held ``requeue_wait`` s) and the node stayed in
service, failing every job sent there. Now the node is drained with the reason, as a failed prolog drains a
Slurm node, and the job runs elsewhere without using an attempt. Real files, a real controller and local
executor; the full disk is the kernel's own ENOSPC."""

from __future__ import annotations

import time
from pathlib import Path

from hal.controller.directives import build_request
from tests.integration.full_disk import FullDiskFS, big_dataset, needs_dev_full
from tests.integration.test_data_live import data_controller

pytestmark = needs_dev_full
FULL = {"folder": ""}  # the cache folder whose disk is full: the first one a copy is written into


def _first_cache(target: str) -> bool:
    if "/cache/" not in target:
        return False
    folder = str(Path(target).parent)
    FULL["folder"] = FULL["folder"] or folder
    return folder == FULL["folder"]


def test_a_cache_that_fills_up_mid_copy_drains_its_node_and_the_job_runs_elsewhere(tmp_path: Path) -> None:
    FULL["folder"] = ""
    FullDiskFS.reset(_first_cache)
    data = {"cache_bytes": "32M", "attempts": 3, "backoff": 0.01, "max_requeues": 2, "requeue_wait": 600}
    ctl, staging = data_controller(tmp_path, {**data, "catalog": str(tmp_path / "cat.json")})
    _, digest = big_dataset(tmp_path, staging.stager.catalog)
    ctl.start()
    try:
        script = f'#!/bin/sh\nsha256sum < "$HAL_DATA/big" > "{tmp_path / "got"}"\n'
        (job,) = ctl.submit(build_request(script, {"input-data": "big"}, {}, str(tmp_path), 0), "al").job_ids
        deadline = time.monotonic() + 20
        while job in ctl.live:
            assert time.monotonic() < deadline, {k: (ctl.store.get(job) or {}).get(k) for k in ("restarts", "cause")}
            time.sleep(0.05)
    finally:
        ctl.stop()
        staging.shutdown()
    full = Path(FULL["folder"]).name
    row = ctl.store.get(job) or {}
    assert row["state"] == "COMPLETED" and row["restarts"] == 0 and row["nodelist"] != full, row  # ran elsewhere
    assert len(FullDiskFS.filled) == 1  # the full disk was not tried again: no retry helps there
    reason = ctl.drained[full]["reason"]
    assert "data cache unusable" in reason and "No space left on device" in reason and full in reason, reason
    cache = staging.stager.caches[full]
    assert not cache.reserved and not cache.entries and not list(cache.root.glob(".*.partial"))
    assert (tmp_path / "got").read_text().split()[0] == digest

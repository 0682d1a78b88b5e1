"""QA LOW-8: every node's cache folder on one 6 MiB disk (examples/local-cluster.toml's layout), cache_bytes = 5M:
a job whose 4 MB input lands on vn001 while vn000's running job pins another 4 MB there waits for the room
(CacheWait, no attempt used) instead of FAILED, and runs once that job ends (vn000's copy, unpinned, is evicted for
it); a job whose input the disk could not hold even with every other job's data gone (a file not HAL's fills it)
still fails, with the reason. A real tmpfs over the whole cache folder, in a private mount namespace (``unshare``)
where the scenario runs as a child process with a real controller; skipped where that is not allowed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from tests.clusters import switch_tree
from tests.integration.small_tmpfs import data_controller, result, small_tmpfs
from tests.integration.test_data_drain_limits import _wait

DATA = {"cache_bytes": "5M", "attempts": 1, "backoff": 0.01, "max_requeues": 0, "requeue_wait": 0.1, "cache_wait": 0.5}
ADMIN = Identity("root", admin=True)
MB = 1_000_000


def test_a_stage_in_waits_for_room_other_nodes_jobs_hold_on_a_shared_disk(tmp_path: Path) -> None:
    got = result(small_tmpfs(__file__, tmp_path, "", size="6M")("run"))
    waited = got["waited"]
    assert waited["state"] == "PENDING" and waited["restarts"] == 0, waited  # not FAILED: no attempt used
    assert "waiting for cache room" in waited["cause"], waited
    assert got["ran"]["state"] == "COMPLETED" and got["ran"]["nodelist"] == "vn001", got["ran"]
    never = got["never"]  # a file not HAL's holds the room: no wait brings it
    assert never["state"] == "FAILED" and "cannot hold the job's inputs" in never["cause"], never
    assert not got["drained"], got


# ---- the scenario, run inside the namespace -------------------------------------------------------------------


def _row(ctl: Controller, job: int) -> dict[str, Any]:
    row = ctl.store.get(job) or {}
    return {k: row.get(k) for k in ("state", "restarts", "cause", "nodelist")}


def _submit(ctl: Controller, tmp: Path, script: str, **opts: str) -> int:
    (job,) = ctl.submit(build_request(f"#!/bin/sh\n{script}\n", {"cpus-per-task": "2", **opts}, {}, str(tmp), 0),
                        "al").job_ids  # fmt: skip
    return int(job)


def _scenario(tmp: Path) -> dict[str, Any]:
    (tmp / "c.toml").write_text(switch_tree("two", "vn", 2, 2, "1G", 2))
    ctl, staging = data_controller(tmp, DATA, {"d1": 4 * MB, "d2": 4 * MB, "d3": 4 * MB})
    ctl.start()
    try:
        busy = _submit(ctl, tmp, "sleep 60", nodelist="vn000", **{"input-data": "d1"})
        assert _wait(lambda: _row(ctl, busy)["state"] == "RUNNING", 30)
        job = _submit(ctl, tmp, "true", nodelist="vn001", **{"input-data": "d2"})
        _wait(lambda: "waiting for cache room" in str(_row(ctl, job)["cause"]) or _row(ctl, job)["state"] == "FAILED")
        waited = _row(ctl, job)
        ctl.cancel(str(busy), ADMIN)
        _wait(lambda: _row(ctl, job)["state"] in ("COMPLETED", "FAILED", "CANCELLED"), 30)
        ran = _row(ctl, job)
        cache = staging.stager.caches["vn001"]
        with ctl.lock:  # the disk emptied of HAL's data, then mostly filled by a file not HAL's
            cache.drop("d2")
            staging.stager.catalog.remove_replica("d2", "vn001")
        _wait(lambda: not cache.trash.busy())
        (tmp / "cache" / "junk").write_bytes(b"x" * 3 * MB)
        last = _submit(ctl, tmp, "true", nodelist="vn000", **{"input-data": "d3"})
        _wait(lambda: _row(ctl, last)["state"] in ("COMPLETED", "FAILED", "CANCELLED"), 30)
        never = _row(ctl, last)
        drained = sorted(ctl.drained)
    finally:
        ctl.stop()
        staging.shutdown()
    return {"waited": waited, "ran": ran, "never": never, "drained": drained}


if __name__ == "__main__":
    if sys.argv[2] == "probe":
        sys.exit(0)
    print(json.dumps(_scenario(Path(sys.argv[1]))))

"""Gated delay scheduling predicts when the data's nodes free from the jobs running there now. QA: a job that had
started on a data-local node and was cancelled still counted as freeing it at its time limit, so a job reading
the data waited (DataLocality) until that limit beside idle nodes, while the node's real jobs ran 10 minutes."""

from __future__ import annotations

import time
from pathlib import Path

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import enable
from hal.engine.plugins.data_delay import DataDelay
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree

CLUSTER = switch_tree("two", "vn", 4, 2, "1G", 2)  # switches: vn000-vn001, vn002-vn003
ALICE = Identity("alice", admin=False)


def _until(ctl: Controller, job: int, states: tuple[str, ...], timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = ctl.store.get(job)
        if row is not None and row["state"] in states:
            return dict(row)
        time.sleep(0.05)
    raise AssertionError(f"job {job} never reached {states}: {ctl.store.get(job)} ({ctl.reason(job)})")


def test_a_cancelled_job_no_longer_frees_the_datas_node_in_the_gates_prediction(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    # 1 KiB/s: staging the 70 KB dataset off its node takes 70 s, worth waiting for (delay_min 5 s)
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "4M", "catalog": str(tmp_path / "c.json"),
            "bandwidth": ["1K"], "latency": [0.0], "delay_min": 5, "delay": 300, "delay_policy": "gated"}  # fmt: skip
    staging = enable(ctl, data)
    assert isinstance(ctl.book.select, DataDelay)
    src = tmp_path / "store" / "reads"
    src.parent.mkdir()
    src.write_bytes(b"GATTACA" * 10_000)
    staging.stager.catalog.register_file("reads", str(src))
    staging.stager.stage_in(0, ("reads",), ["vn000"])  # cached on vn000: vn000-vn001 are data-local
    staging.stager.release(0)

    def submit(script: str, options: dict[str, str]) -> int:
        return ctl.submit(build_request(script, options, {}, str(tmp_path), 0), "alice").job_ids[0]

    ctl.start()
    try:
        short = submit("#!/bin/sh\nsleep 60\n", {"nodelist": "vn000", "time": "1"})  # a 1-minute limit
        _until(ctl, short, ("RUNNING",))
        assert ctl.cancel(str(short), ALICE) == [short]
        _until(ctl, short, ("CANCELLED",))
        fill = [submit("#!/bin/sh\nsleep 30\n", {"nodelist": n, "cpus-per-task": "2", "time": "10"})
                for n in ("vn000", "vn001")]  # fmt: skip
        for job in fill:
            _until(ctl, job, ("RUNNING",))
        job = submit("#!/bin/sh\ntrue\n", {"input-data": "reads", "time": "1"})
        # the data's nodes free in 10 minutes, past the 70 s it saves: it stages elsewhere now (it waited ~60 s)
        ran = _until(ctl, job, ("RUNNING", "COMPLETED"), timeout=15.0)
    finally:
        ctl.stop()
    assert ran["nodelist"] in ("vn002", "vn003")

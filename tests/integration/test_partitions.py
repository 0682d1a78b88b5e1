"""`-p a,b`: a job submitted to several partitions runs in whichever can start it (Slurm's rule), limited to those
whose time limits admit it, and records the partition it ran in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.executors.local import LocalExecutor

CLUSTER = """
[[nodes]]
prefix = "a"
cpus = 1
partitions = ["long"]
[[nodes]]
prefix = "b"
cpus = 1
partitions = ["short"]
[[partitions]]
name = "long"
default = true
[[partitions]]
name = "short"
max_time = 60
"""


def test_several_partitions(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool"))
    recover(ctl)

    def submit(script: str, **opts: str) -> int:
        return ctl.submit(build_request(f"#!/bin/sh\n{script}\n", opts, {}, str(tmp_path), 0), "al").job_ids[0]

    with pytest.raises(SubmitError, match="PartitionTimeLimit: --time must be at most 0:01:00 in partition 'short'"):
        submit("true", partition="short", time="5:00")
    with pytest.raises(SubmitError, match="invalid partition 'nope'"):
        submit("true", partition="long,nope")
    ctl.start()
    try:
        busy = submit("sleep 3", partition="long")
        either = submit("true", partition="long,short")  # long is busy: it runs in short
        too_long = submit("true", partition="short,long", time="5:00")  # short's limit excludes it
        deadline = time.monotonic() + 60
        while (either in ctl.live or too_long in ctl.live) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ctl.stop()
    rows = {j: ctl.store.get(j) or {} for j in (busy, either, too_long)}
    assert {j: (r["state"], r["partition"], r["nodelist"]) for j, r in rows.items()} == {
        busy: ("COMPLETED", "long", "a000"),
        either: ("COMPLETED", "short", "b000"),
        too_long: ("COMPLETED", "long", "a000"),
    }
    assert rows[too_long]["start_time"] >= rows[busy]["end_time"]  # it waited for long rather than run in short
    assert rows[either]["time_limit"] == 60.0  # no --time: the smallest of the partitions' limits

"""The live data plane's ``[data] delay_policy``: "plain" keeps fixed delay scheduling, "gated" installs
DataDelay, which predicts from the running jobs' expected ends on their nodes (``Locality.running``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import delay_policy, enable
from hal.engine.plugins.data_delay import DataDelay
from hal.engine.plugins.leaf_reserve import LeafReserver
from hal.engine.plugins.topology import TopologySelector
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree

CLUSTER = switch_tree("two", "vn", 2, 2, "1G", 2)


def test_delay_policy_parsing() -> None:
    assert delay_policy({}) == (0.0, False)
    assert delay_policy({"delay": 120}) == (120.0, False)
    assert delay_policy({"delay": "600", "delay_policy": "gated"}) == (600.0, True)
    with pytest.raises(ValueError, match="delay_policy"):
        delay_policy({"delay_policy": "smart"})
    with pytest.raises(ValueError, match=r"\[data\] delay"):
        delay_policy({"delay": "soon"})
    with pytest.raises(ValueError, match=r"\[data\] delay"):
        delay_policy({"delay": -1})


def _controller(tmp_path: Path, profile: Profile | None = None) -> tuple[Controller, dict[str, object]]:
    (tmp_path / "c.toml").write_text(CLUSTER)
    store = Store(sqlite_url(tmp_path / "hal.db"))
    ctl = Controller(
        store, Machine.load(tmp_path / "c.toml"), LocalExecutor(tmp_path / "spool", kill_wait=1.0), profile
    )
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "4M", "catalog": str(tmp_path / "c.json")}
    return ctl, data


def test_plain_and_gated_selectors(tmp_path: Path) -> None:
    ctl, data = _controller(tmp_path, Profile(placement="topology", topology_reserve="wait=60"))
    enable(ctl, {**data, "delay": 30})
    sel = ctl.book.select
    assert isinstance(sel, TopologySelector) and sel.args.data_delay == 30.0
    enable(ctl, {**data, "delay": 900, "delay_policy": "gated"})
    gated = ctl.book.select
    assert isinstance(gated, DataDelay) and gated.policy.max_wait == 900.0 and gated.args.data_delay == 0.0
    reserver = ctl.book.reserver
    assert isinstance(reserver, LeafReserver) and reserver.selector is gated.inner  # holds act through the wrapper
    enable(ctl, {**data, "delay": 0, "delay_policy": "gated"})  # an explicit 0 took the 1800 s default (QA)
    zero = ctl.book.select
    assert isinstance(zero, DataDelay) and zero.policy.max_wait == 0.0


def test_the_gate_sees_the_running_jobs_expected_ends(tmp_path: Path) -> None:
    """The gate reads the engine's running jobs at each decision (Locality.running), not a record of starts: a job
    cancelled or ended early no longer frees its node in the prediction (tests/integration/test_data_gate_running)."""
    ctl, data = _controller(tmp_path)
    recover(ctl)
    enable(ctl, {**data, "delay_policy": "gated"})
    sel = ctl.book.select
    assert isinstance(sel, DataDelay)
    ctl.start()
    try:
        job = ctl.submit(build_request("#!/bin/sh\nsleep 1\n", {"time": "5"}, {}, str(tmp_path), 0), "alice").job_ids
        deadline = time.monotonic() + 10.0
        while job[0] not in ctl.sched.running and job[0] in ctl.live and time.monotonic() < deadline:
            time.sleep(0.02)
        with ctl.lock:
            act = ctl.sched.running.get(job[0])
            assert act is not None, "the job did not start"
            node = int(act.alloc.nodes[0])
            expected = act.predicted_end
            ends = sel.locality.running_ends(act.start)
    finally:
        ctl.stop()
    assert ends == {node: [(expected, 1)]} and expected > act.start

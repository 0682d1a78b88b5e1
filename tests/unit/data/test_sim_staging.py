"""Simulated staging with rack and site storage: a dataset crosses the wide levels once per rack, fans out
inside the rack at the rack's cost, and a copy from the cloud is kept on-premises (no second egress)."""

from __future__ import annotations

import pytest

from hal.model.job import JobSpec
from hal.sim.data_sim import SimStaging
from tests.unit.topology.test_locality_stretch import setup


def job(jid: int, *inputs: str) -> JobSpec:
    return JobSpec(jid, 0.0, tasks=2, inputs=inputs)


def test_rack_storage_stages_once_and_fans_out() -> None:
    sel, loc, _ = setup()
    loc.dataset("bucket", 1e9)
    loc.add_storage_replica("bucket", "site", "cloud")
    staging = SimStaging(loc, cache_bytes=1e10, rack_bytes=1e10, site_bytes=1e10)
    secs = staging(job(1, "bucket"), (0, 1), 0.0)  # both nodes of rack r0: one WAN copy, two rack copies
    assert secs == pytest.approx(10 + 1)
    rep = staging.report()
    assert rep["wan_TB"] == pytest.approx(1e-3) and rep["wide_TB"] == pytest.approx(1e-3)
    assert rep["bytes_moved_TB"] == pytest.approx(3e-3) and rep["egress_dollars"] == pytest.approx(0.1)
    assert staging(job(2, "bucket"), (2,), 0.0) == pytest.approx(2 + 1)  # site copy, no egress again
    assert staging.report()["egress_dollars"] == pytest.approx(0.1)
    assert (sel.index.leaf, 0) in loc.stored["bucket"]  # the engine sees the rack replica
    assert staging(job(3, "bucket"), (0,), 0.0) == 0.0  # cached on the node


def test_rack_storage_evicts_lru_but_never_the_home() -> None:
    _, loc, _ = setup()
    for name in ("a", "b"):
        loc.dataset(name, 1e9)
        loc.add_storage_replica(name, "site", "onprem")
    staging = SimStaging(loc, cache_bytes=1e9, rack_bytes=1e9, site_bytes=1e9)
    staging(job(1, "a"), (0,), 0.0)
    staging(job(2, "b"), (1,), 0.0)  # rack r0 keeps b, a is evicted from its storage
    assert (1, 0) not in loc.stored["a"] and (1, 0) in loc.stored["b"]
    assert any(lvl == 2 for lvl, _ in loc.stored["a"])  # the on-prem home stays

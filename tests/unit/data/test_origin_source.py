"""The origin is a source beside every registered copy, in the placement score and in the stager's choice alike.
QA: registering a priced cloud mirror of an on-premises dataset priced on-site nodes its egress ($0.75, where the
origin costs nothing), and the stage-in read the mirror."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hal.controller.core import Controller
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.bridge import LocalityBridge
from hal.data.catalog import Catalog, Replica
from hal.data.live_config import enable
from hal.engine.plugins.locality import Locality, TransferModel
from hal.engine.plugins.topology import TopologySelector
from hal.executors.local import LocalExecutor
from hal.model.topology import Topology
from tests.clusters import cluster_toml

# QA's cluster: site0 = rack0 (n000, n001) + rack1 (n002, n003); site1 = rack2 (n004, n005)
CLUSTER = cluster_toml(name="qa", nodes=6, cpus=2, mem="1G", partitions=["batch"], topology={"site": 2, "rack": 2})
SIZE = 8 * 2**20
MODEL = TransferModel(
    bandwidth=(float("inf"), 20 * 2**20, 5 * 2**20, 2**20),
    latency=(0.0, 0.05, 0.05, 0.05),
    egress_per_gb={"site1": 90.0},
)
PATHS = (("site0", "rack0"),) * 2 + (("site0", "rack1"),) * 2 + (("site1", "rack2"),) * 2


def _catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "onprem.bin").write_bytes(b"x" * SIZE)
    catalog = Catalog()
    catalog.register_file("onprem", str(tmp_path / "onprem.bin"))  # at "origin": the topology does not place it
    return catalog


def test_a_priced_mirror_never_makes_a_placement_cost_more(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    loc = Locality(TopologySelector(Topology(("site", "rack"), PATHS)).index, MODEL)
    LocalityBridge(catalog, loc, [f"n{i:03d}" for i in range(6)])
    before = loc.node_costs(("onprem",))
    assert np.allclose(before.seconds, 8.05) and not before.dollars.any()  # the farthest transfer, unpriced
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "onprem.bin").write_bytes(b"x" * SIZE)
    catalog.add_replica(Replica("onprem", "site=site1", str(tmp_path / "s1" / "onprem.bin")))
    after = loc.node_costs(("onprem",))
    assert not after.dollars[:4].any() and np.allclose(after.seconds[:4], 8.05)  # on site: still the origin
    assert np.allclose(after.seconds[4:], 1.65)  # in site1: its own copy, over the site's network
    assert (loc.as_seconds(after.seconds, after.dollars) <= loc.as_seconds(before.seconds, before.dollars)).all()
    catalog.remove_replica("onprem", "origin")  # only the mirror left: on site it pays the egress
    assert np.allclose(loc.node_costs(("onprem",)).dollars[:4], SIZE / 1e9 * 90.0)


def test_the_stage_in_reads_the_copy_the_score_priced(tmp_path: Path) -> None:
    """Wired as `hal server` wires it: an on-site node reads the origin, a site1 node its site's copy."""
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "100M", "catalog": str(tmp_path / "c.json"),
            "bandwidth": ["20M", "5M", "1M"], "egress_per_gb": {"site1": 90.0}}  # fmt: skip
    stager = enable(ctl, data).stager
    (tmp_path / "onprem.bin").write_bytes(b"x" * SIZE)
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "onprem.bin").write_bytes(b"x" * SIZE)
    stager.catalog.register_file("onprem", str(tmp_path / "onprem.bin"))
    stager.catalog.add_replica(Replica("onprem", "site=site1", str(tmp_path / "s1" / "onprem.bin")))
    order = stager.order(stager.catalog.replicas_of("onprem"), "n001")
    assert [r.location for r in order] == ["origin", "site=site1"]
    assert [s.source for s in stager.stage_in(1, ("onprem",), ["n001"])] == ["origin"]
    assert [s.source for s in stager.stage_in(2, ("onprem",), ["n004"])] == ["site=site1"]
    stager.release(1)
    stager.release(2)


def test_equal_copies_keep_the_nearest_first_and_the_origin_last() -> None:
    """Without egress a copy in the other site costs what the origin does: the placed copy is read first."""
    from hal.data.sources import cheapest_first

    topo = Topology(("site", "rack"), PATHS)
    names = [f"n{i:03d}" for i in range(6)]
    loc = Locality(TopologySelector(topo).index, TransferModel(bandwidth=MODEL.bandwidth, latency=MODEL.latency))
    loc.dataset("d", SIZE)
    reps = [Replica("d", where, "") for where in ("origin", "site=site1", "n005", "rack=rack1")]
    order = cheapest_first(topo, names, loc)
    assert [r.location for r in order(reps, "n000")] == ["rack=rack1", "n005", "site=site1", "origin"]
    assert [r.location for r in order(reps, "n004")][:2] == ["n005", "site=site1"]

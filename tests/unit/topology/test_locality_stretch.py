"""Transfer costs from the topology (levels, egress out of a cloud site), delay scheduling, stretch factors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hal.data.bridge import LocalityBridge
from hal.data.catalog import Catalog, Replica
from hal.engine.nodes import NodeBook
from hal.engine.plugins.locality import Locality, TransferModel
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.sim.stretch import StretchModel

PATHS = (("onprem", "r0"),) * 2 + (("onprem", "r1"),) * 2 + (("cloud", "c0"),) * 2
MODEL = TransferModel(bandwidth=(float("inf"), 1e9, 5e8, 1e8), latency=(0, 0, 0, 0), egress_per_gb={"cloud": 0.1})


def setup() -> tuple[TopologySelector, Locality, NodeBook]:
    topo = Topology(("site", "rack"), PATHS)
    sel = TopologySelector(topo, TopologyArgs(data_delay=1000.0))
    loc = Locality(sel.index, MODEL)
    sel.data = loc
    base = Cluster.uniform(6, Resources(cpus=2))
    return sel, loc, NodeBook(NodeTable.of(Cluster(base.nodes, base.partitions, topo)), selector=sel)


def test_costs_by_level_and_egress() -> None:
    _, loc, _ = setup()
    loc.dataset("bucket", 1e9)
    loc.add_storage_replica("bucket", "site", "cloud")
    c = loc.costs(("bucket",))
    assert np.allclose(c.seconds, [10, 10, 10, 10, 2, 2])  # WAN to on-prem, the site network in the cloud
    assert np.allclose(c.dollars, [0.1] * 4 + [0, 0]) and np.allclose(c.bytes, 1e9)
    loc.add_node_replica("bucket", 0)
    c = loc.costs(("bucket",))
    assert c.seconds[0] == 0 and c.bytes[0] == 0 and c.seconds[1] == 1 and c.dollars[2] == 0  # rack, site


def test_job_goes_to_data_and_delay_waits_only_as_long_as_staging() -> None:
    _, loc, book = setup()
    loc.dataset("big", 1e11)
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 5)
    req = request_of(JobSpec(1, 0.0, tasks=2, inputs=("big",)), book.table.space)
    a = book.allocate(req)
    assert a is not None and list(a.nodes) == [5]
    book.now = 10.0  # node 5 is full: wait for it, since staging elsewhere takes 100+ s
    assert not book.fits(request_of(JobSpec(2, 0.0, tasks=2, inputs=("big",)), book.table.space))
    book.now = 500.0
    assert book.fits(request_of(JobSpec(3, 0.0, tasks=2, inputs=("big",)), book.table.space))
    loc.dataset("tiny", 1e3)
    loc.add_storage_replica("tiny", "site", "onprem")
    loc.add_node_replica("tiny", 5)
    book.now = 0.0  # a tiny input never waits: staging it costs less than waiting
    assert book.fits(request_of(JobSpec(4, 0.0, tasks=2, inputs=("tiny",)), book.table.space))


def test_stretch_per_level_crossed() -> None:
    model = StretchModel(heavy=(0.2, 0.5), light=(0.05,), heavy_share=0.5)
    heavy = next(j for j in range(100) if model.is_heavy(j))
    light = next(j for j in range(100) if not model.is_heavy(j))
    assert model.factor(heavy, 1) == 1.0 and model.factor(heavy, 2) == 1.2 and model.factor(heavy, 3) == 1.7
    assert model.factor(light, 3) == 1.1


def test_a_copy_below_the_top_is_found_by_its_domains_name_and_priced() -> None:
    """QA: `add-copy --location rack=rack0` was accepted (add-copy checks a domain's name), then dropped by the
    score, whose labels below the top are paths (site0/rack0); egress by a lower level's name was never charged."""
    topo = Topology(("site", "rack"), (("onprem", "r0"),) * 2 + (("cloud", "c0"),) * 2)
    sel = TopologySelector(topo, TopologyArgs())
    loc = Locality(sel.index, TransferModel(egress_per_gb={"c0": 0.1}, egress_level="rack"))
    loc.dataset("d", 1e9)
    loc.add_storage_replica("d", "rack", "c0")  # raised: labels there are onprem/r0 and cloud/c0
    c = loc.costs(("d",))
    assert np.allclose(c.dollars, [0.1, 0.1, 0, 0]) and c.level[2] == 1  # out of rack c0, priced by its name
    assert loc.storage_domain("rack", "cloud/c0") == loc.storage_domain("rack", "c0")
    loc.drop_domain_replica("d", *loc.storage_domain("rack", "c0"))  # type: ignore[misc]
    assert not loc.stored["d"]


def test_a_removed_storage_copy_leaves_the_score(tmp_path: Path) -> None:
    """QA: `hal dataset rm-copy` took the copy out of the catalog, but the score counted it until a restart."""
    (tmp_path / "d").write_bytes(b"x" * 1000)
    catalog = Catalog()
    catalog.register_file("d", str(tmp_path / "d"))
    catalog.add_replica(Replica("d", "rack=r1", str(tmp_path / "d")))
    _, loc, _ = setup()
    LocalityBridge(catalog, loc, [f"n{i}" for i in range(6)])
    assert loc.stored["d"] == {(1, 1)}  # rack r1, named as add-copy checks it (the index says onprem/r1)
    catalog.remove_replica("d", "rack=r1")
    assert not loc.stored["d"]


def test_delay_scheduling_waits_only_for_nodes_the_job_may_use_and_by_where_it_would_go() -> None:
    """QA: a `-w n002` job waited for n006, which held its data but which it may not use; and the wait's budget was
    the stage-in at a busy rack-mate of the data (1 s) while the job then staged across sites (98 s)."""
    from hal.engine.plugins.data_local import delay_budget
    from hal.engine.plugins.topology_span import bind_capacity

    sel, loc, book = setup()
    bind_capacity(book)  # as the engine does: the nodes each request may use
    loc.dataset("big", 1e11)
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 5)
    pinned = request_of(JobSpec(1, 0.0, tasks=1, inputs=("big",), node_names=("n000",)), book.table.space)
    assert book.fits(pinned)  # the data's node is not one it may use: no wait (it waited)
    rest = request_of(JobSpec(2, 0.0, tasks=2, node_names=("n004",)), book.table.space)
    assert book.allocate(rest) is not None  # the data's rack-mate is busy
    req = request_of(JobSpec(3, 0.0, tasks=2, inputs=("big",), node_names=("n000", "n004", "n005")), book.table.space)
    local = loc.normalized(("big",))[1]
    room = np.where(np.arange(6) == 0, 2, 0)  # only n0 has room: it stages from the site's storage, 80 s
    assert delay_budget(sel, req, local, room) == min(1000.0, float(loc.stage_seconds(("big",))[0]))
    assert sel.last_there == 0  # where `hal explain` says staging was priced


def test_explain_says_delay_scheduling_holds_a_job() -> None:
    """QA: a job held for its data's nodes showed "waits for nodes to free up" while 5 nodes were idle."""
    from hal.engine.plugins.placement_explain import held_for_data

    sel, loc, book = setup()
    loc.dataset("big", 1e11)
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 5)
    assert book.allocate(request_of(JobSpec(1, 0.0, tasks=2, inputs=("big",)), book.table.space)) is not None
    book.now = 10.0  # node 5, which holds the data, is full; the job could start elsewhere
    req = request_of(JobSpec(2, 0.0, tasks=2, inputs=("big",)), book.table.space)
    assert not book.fits(req)
    said = held_for_data(book, req)
    assert said is not None and "delay scheduling holds it for nodes holding its --input-data (big)" in said, said
    # held as long as staging it elsewhere takes (100 s), not all of [data] delay (QA: the delay was shown)
    assert (
        "until t=100 s at the latest: as long as staging them where it could start now costs, on n004: 100.00 s" in said
    ), said
    assert sel.args.data_delay == 1000.0 and book.select is sel
    book.now = 101.0  # past the stage-time budget: it starts, as explained
    assert held_for_data(book, req) is None and book.fits(req)
    plain = request_of(JobSpec(3, 0.0, tasks=2), book.table.space)
    assert held_for_data(book, plain) is None  # no inputs, no data hold

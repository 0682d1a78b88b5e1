"""The node book a profile asks for is the same in the controller and the simulator, and a topology request
on a book that cannot honour it is refused rather than ignored."""

from __future__ import annotations

from hal.engine.plugins.leaf_reserve import LeafReserver, placement_book
from hal.engine.plugins.topology import TopologySelector
from hal.engine.profile import Profile
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def table() -> tuple[NodeTable, Topology]:
    topo = Topology.tree(8, (2, 2), ("rack", "switch"))
    base = Cluster.uniform(8, Resources(cpus=2))
    return NodeTable.of(Cluster(base.nodes, base.partitions, topo)), topo


def test_topology_placement_gets_a_selector_and_reservation_only_when_asked() -> None:
    nodes, topo = table()
    assert placement_book(nodes, Profile(), topo).select is None
    plain = placement_book(nodes, Profile(placement="topology"), topo)
    assert isinstance(plain.select, TopologySelector) and plain.reserver is None
    held = placement_book(nodes, Profile(placement="topology", topology_reserve="wait=60"), topo)
    assert isinstance(held.reserver, LeafReserver) and held.reserver.selector is held.select
    assert isinstance(placement_book(nodes, Profile(placement="topology"), None).select, TopologySelector)  # flat


def test_topology_requests_without_a_selector_are_refused_with_the_fix() -> None:
    """--segment and --topology cannot be honoured by first fit: refused, saying why. --switches is accepted and
    ignored there, as Slurm without topology/tree ignores it (it was refused; README says never a refusal, QA)."""
    nodes, topo = table()
    space = nodes.space
    for extra in ({"segment": 2}, {"topology_required": "switch"}, {"topology_preferred": "rack"}):
        req = request_of(JobSpec(1, 0.0, tasks=2, nodes=2, time_limit=60.0, **extra), space)  # type: ignore[arg-type]
        why = placement_book(nodes, Profile(), topo).impossible(req)
        assert why is not None and 'placement = "topology"' in why and "place by node order" in why
        assert placement_book(nodes, Profile(placement="topology"), topo).impossible(req) is None
    switches = request_of(JobSpec(1, 0.0, tasks=2, nodes=2, time_limit=60.0, switches=1), space)
    assert placement_book(nodes, Profile(), topo).impossible(switches) is None
    typo = request_of(JobSpec(1, 0.0, tasks=2, nodes=2, time_limit=60.0, topology_preferred="swtich"), space)
    assert "unknown topology level 'swtich'" in str(
        placement_book(nodes, Profile(placement="topology"), topo).impossible(typo)
    )

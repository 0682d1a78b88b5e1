"""A topology refusal says what its count counts, and names a cluster's levels the same way on every tree (QA:
"needs 8 tasks within one switch ... the largest has 4" said 4 of nothing; an unknown level was listed as
['switch', 'cluster'] on one tree and ['switch', 'tier1'] on another)."""

from __future__ import annotations

from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf

NAMES = [f"n{i:02d}" for i in range(8)]
APART = "SwitchName=s0 Nodes=n[00-03]\nSwitchName=s1 Nodes=n[04-07]\n"  # two fabrics, no common root
JOINED = APART + "SwitchName=top Switches=s[0-1]\n"


def _why(text: str, spec: JobSpec) -> str:
    topo = parse_topology_conf(text, NAMES, warn=lambda _m: None)
    base = Cluster.uniform(8, Resources(cpus=1))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    req = request_of(spec, table.space)
    return TopologySelector(topo).why(req, table.free[:, 0].astype("int64"), spec.tasks) or ""


def test_a_task_count_refusal_says_the_largest_has_room_for_so_many_tasks() -> None:
    said = _why(APART, JobSpec(1, 0.0, tasks=8))
    assert said.startswith("needs 8 tasks within one switch,") and said.endswith("the largest has room for 4 tasks")
    said = _why(JOINED, JobSpec(1, 0.0, tasks=8, topology_required="switch"))
    assert said == "needs 8 tasks within one switch; the largest has room for 4 tasks"
    said = _why(JOINED, JobSpec(1, 0.0, tasks=8, nodes=8, topology_required="switch"))
    assert said == "needs 8 nodes within one switch; the largest has 4"  # nodes, as the job counts them


def test_unknown_levels_are_listed_alike_with_and_without_a_root_switch() -> None:
    tail = "for each level of switches above them, and 'cluster' for the whole machine)"
    apart = _why(APART, JobSpec(1, 0.0, tasks=2, nodes=2, topology_preferred="bogus"))
    joined = _why(JOINED, JobSpec(1, 0.0, tasks=2, nodes=2, topology_preferred="bogus"))
    assert apart.startswith("unknown topology level 'bogus'; levels are ['switch'] (the names") and apart.endswith(tail)
    assert joined.startswith("unknown topology level 'bogus'; levels are ['switch', 'tier1'] (") and joined.endswith(
        tail
    )
    one = _why("SwitchName=s0 Nodes=n[00-07]\n", JobSpec(1, 0.0, tasks=2, nodes=2, topology_preferred="bogus"))
    assert "levels are ['switch'] (" in one and one.endswith(tail)

"""A profile's [placement] table weighs the placement score in every selector (server and simulator), the
selector ranks candidates by that weighted total, and `hal explain` shows the weights (QA: the table was
silently ignored, and the columns did not visibly add up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.placement_explain import alternatives
from hal.engine.plugins.placement_parts import parts_of, room_of
from hal.engine.plugins.score import PlacementWeights
from hal.engine.plugins.topology import TopologyArgs, TopologySelector
from hal.engine.profile import Profile
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def _table() -> tuple[NodeTable, Topology]:
    """16 nodes: switches of 4, racks of 2 switches, one spine. Free: all of switch0, node 8 and node 12 (one
    in each switch of rack1): a -N2 job fits in switch0 (half its room left) or across rack1 (none left)."""
    topo = Topology.tree(16, (2, 2, 4), ("spine", "rack", "switch"))
    base = Cluster.uniform(16, Resources(cpus=8))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    busy = [n for n in range(16) if n not in (0, 1, 2, 3, 8, 12)]
    table.free[busy] = 0
    return table, topo


def _req(table: NodeTable) -> Request:
    return request_of(JobSpec(1, 0.0, tasks=16, nodes=2, exclusive=True, time_limit=60.0), table.space)


def _placed(weights: PlacementWeights) -> tuple[list[int], NodeBook, TopologySelector, Request]:
    table, topo = _table()
    sel = TopologySelector(topo, TopologyArgs(weights=weights))
    book = NodeBook(table, selector=sel)
    req = _req(table)
    alloc = book.allocate(req)
    assert alloc is not None
    book.release(alloc)
    return sorted(int(n) for n in alloc.nodes), book, sel, req


def test_default_weights_keep_the_lowest_level_that_fits() -> None:
    nodes, *_ = _placed(PlacementWeights())
    assert nodes == [0, 1]


def test_weights_decide_and_the_chosen_placement_has_the_lowest_total() -> None:
    """With fragmentation weighed 5, spreading over rack1 (nothing left over) beats half of switch0; the
    selector ignored the weights without data costs ("the lowest level that fits wins"), so `hal explain`'s
    "lower total wins" listed an alternative cheaper than the placement chosen."""
    for weights in (PlacementWeights(), PlacementWeights(fragmentation=5.0)):
        nodes, book, sel, req = _placed(weights)
        room, _ = room_of(book, req)
        chosen = parts_of(sel, req, np.asarray(nodes, dtype=np.intp), room)
        others = alternatives(sel, book, req, chosen=tuple(nodes))
        assert others and all(chosen.total <= p.total + 1e-9 for p in others), (weights, chosen, others)
    assert _placed(PlacementWeights(fragmentation=5.0))[0] == [8, 12]


def test_the_profile_placement_table_reaches_the_selector(tmp_path: Path) -> None:
    path = tmp_path / "prof.toml"
    path.write_text('[scheduler]\nplacement = "topology"\n[placement]\nfragmentation = 5.0\ntopology = 2\n')
    profile = Profile.read(path, has_tree=True)
    assert profile.placement_weights == PlacementWeights(topology=2.0, fragmentation=5.0)
    table, topo = _table()
    sel = placement_book(table, profile, topo).select  # the controller's and the simulator's book
    assert isinstance(sel, TopologySelector) and sel.args.weights == profile.placement_weights
    path.write_text("[placement]\ndata = 0\n")  # a top-level table without [scheduler]: weights, not the name
    got = Profile.read(path, has_tree=True, base=Profile.server_default(True))
    assert (got.placement, got.order, got.placement_weights.data) == ("topology", "multifactor", 0.0)
    path.write_text('order = "sjf"\n')  # left out: the base's weights
    base = Profile(placement="topology", placement_weights=PlacementWeights(data=2.0))
    assert Profile.read(path, has_tree=True, base=base).placement_weights.data == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[placement]\nfragmentaion = 5\n", r"unknown placement weights \['fragmentaion'\]"),
        ("[placement]\ntopology = -1\n", "placement weight topology must be a number >= 0"),
        ('[placement]\ndata = "lots"\n', "placement weight data must be a number >= 0, not 'lots'"),
        ("[placement]\ndata = true\n", "placement weight data must be a number >= 0, not True"),
        ("[placement]\ndata = inf\n", "placement weight data must be a number >= 0"),
        ("[scheduler]\norder = 'sjf'\n[placment]\ndata = 1\n", r"unknown profile tables or keys \['placment'\]"),
        ('[scheduler]\nplacement = "firstfit"\n[placement]\ndata = 1\n', 'they need placement = "topology"'),
    ],
)
def test_bad_placement_tables_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prof.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Profile.read(path, has_tree=True)


def test_explain_shows_how_the_total_weighs_the_parts() -> None:
    from rich.console import Console

    from hal.cli.explain import _parts_table

    nodes, book, sel, req = _placed(PlacementWeights(fragmentation=5.0))
    room, _ = room_of(book, req)
    parts = parts_of(sel, req, np.asarray(nodes, dtype=np.intp), room).as_dict()
    console = Console(record=True, width=160)
    console.print(_parts_table("placement score parts", [("chosen", parts)]))
    assert "total = 1 x topology + 0.5 x data + 5 x frag" in console.export_text()

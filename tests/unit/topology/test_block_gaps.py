"""A block of fewer nodes than the planning base block size. QA: `block_size = 4` on 14 nodes was taken (a last
block of 2), but the same four BlockName= lines in an imported topology.conf were refused ("block 'b4' has 2; give
BlockSizes=2 or more sizes"), where README says block_size is exactly those lines. Slurm 25.05 permits such gaps
in blocks (block_record_validate no longer stops on a block under the base size; 24.11 and older did): both forms
take it, with and without BlockSizes=, and place jobs alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import cluster_from_dict, load_cluster
from hal.topology_conf import parse_topology_conf
from tests.unit.topology.test_block_size_aggregation import _conf, _forms, _schedule, _shape, _swf


@pytest.mark.parametrize(("n_nodes", "size"), [(14, 4), (10, 4), (7, 3), (19, 6)])
def test_a_short_last_block_is_the_same_in_both_forms(n_nodes: int, size: int) -> None:
    names = [f"n{i}" for i in range(n_nodes)]
    spec = {"nodes": [{"names": f"n[0-{n_nodes - 1}]", "cpus": 1}], "topology": {"block_size": size}}
    topo = cluster_from_dict(spec).topology
    assert topo is not None
    assert _shape(topo) == _shape(parse_topology_conf(_conf(n_nodes, size), names))  # was refused


def test_the_qa_files_load_and_schedule_byte_identically(tmp_path: Path) -> None:
    a, b = _forms(tmp_path, 14, 4)
    assert "b3 Nodes=n[12-13]" in (tmp_path / "topology.conf").read_text()  # the QA case: a last block of 2
    assert load_cluster(b).topology is not None
    jobs = [(1, 0, 100, 4, 200), (2, 0, 50, 2, 100), (3, 5, 80, 6, 160), (4, 10, 30, 2, 60), (5, 20, 40, 8, 80)]
    trace = _swf(tmp_path / "t.swf", jobs, 14)
    assert _schedule(tmp_path, trace, a) == _schedule(tmp_path, trace, b)


def test_with_block_sizes_a_smaller_block_is_taken_too() -> None:
    names = [f"n{i}" for i in range(14)]
    topo = parse_topology_conf(_conf(14, 4) + "BlockSizes=4,16\n", names)
    assert topo.levels == ("block16", "block") and topo.block_nodes == (16, 4)
    assert topo.paths[13] == ("bs16-0", "b3")

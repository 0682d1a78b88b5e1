"""`hal simulate --gpus --segment` sizes segments by the base block (or a tree's full leaf), not the shortest one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, load, run_workload
from hal.sim.swf import SwfRecord, write_swf

NODES = '[[nodes]]\nprefix = "g"\ncount = 10\ncpus = 16\ngpus = 8\n'
BLOCKS = NODES + "[topology]\nblock_size = 3\n"  # blocks of 3, 3, 3 and a last one of 1
TREE = NODES + '[topology]\nlevels = ["switch"]\nfanouts = [4]\n'  # leaf switches of 4, 4 and a last one of 2


def _rec(job_id: int, procs: int) -> SwfRecord:
    return SwfRecord(job_id, 0, -1, 100, procs, -1, -1, procs, -1, -1, 1, 1, -1, -1, -1, -1, -1, -1)


def _opts(tmp_path: Path, cluster: str) -> SimOptions:
    (tmp_path / "c.toml").write_text(cluster)
    profile = Profile(placement="topology")
    return SimOptions(cluster=tmp_path / "c.toml", gpus=True, segment=True, estimate="actual", profile=profile)


def test_a_short_last_block_does_not_shrink_every_segment_to_one(tmp_path: Path) -> None:
    """QA M1: 40 nodes in blocks of 3 asked segments of 1 (no --segment at all) for a run labelled segment."""
    write_swf(tmp_path / "t.swf", [_rec(1, 24), _rec(2, 32), _rec(3, 48)], {"MaxProcs": "80"})
    opts = _opts(tmp_path, BLOCKS)
    trace, workload = load(tmp_path / "t.swf", opts)
    assert [(j.nodes, j.segment) for j in workload.jobs] == [(3, 3), (4, 2), (6, 3)]
    run = run_workload(trace, workload, opts)
    for nodes in run.outcome.nodes:  # every segment inside one block: each block used holds whole segments
        per_block = Counter(n // 3 for n in nodes)
        assert all(count % 2 == 0 or count == 3 for count in per_block.values()), nodes
    four = run.outcome.nodes[1]
    assert all(count == 2 for count in Counter(n // 3 for n in four).values()), four  # no pair straddles


def test_a_short_last_leaf_switch_does_not_shrink_segments_on_a_tree(tmp_path: Path) -> None:
    """The same on a tree without blocks: segments are kept in leaves of the fanout's size, the short one aside."""
    write_swf(tmp_path / "t.swf", [_rec(1, 32), _rec(2, 64)], {"MaxProcs": "80"})
    _, workload = load(tmp_path / "t.swf", _opts(tmp_path, TREE))
    assert [(j.nodes, j.segment) for j in workload.jobs] == [(4, 4), (8, 4)]

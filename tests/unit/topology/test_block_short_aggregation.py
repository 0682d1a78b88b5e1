"""A job needing more nodes than the largest aggregation, on blocks one of which is short: it may use as many of
the aggregations as hold its nodes (QA: -N 16 on blocks of 4, 4, 3, 4, 4 with BlockSizes=4,8 was refused at
submission as never fitting, the two roomiest aggregations holding 8 + 7, while -N 17 and -N 19 ran)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.unit.topology.test_block_size_aggregation import _schedule, _swf

CONF = """BlockName=b1 Nodes=g[01-04]
BlockName=b2 Nodes=g[05-08]
BlockName=b3 Nodes=g[09-11]
BlockName=b4 Nodes=g[12-15]
BlockName=b5 Nodes=g[16-19]
BlockSizes=4,8
"""


def test_sixteen_nodes_run_as_seventeen_do(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text(CONF)
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(
        '[[nodes]]\nnames = "g[01-19]"\ncpus = 1\npartitions = ["batch"]\n'
        '[[partitions]]\nname = "batch"\ndefault = true\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    trace = _swf(tmp_path / "t.swf", [(1, 0, 100, 16, 200), (2, 0, 100, 17, 200), (3, 0, 50, 8, 100)], 19)
    rows = list(csv.DictReader(_schedule(tmp_path, trace, cluster).splitlines()))
    assert sorted(int(r["job_id"]) for r in rows) == [1, 2, 3]  # job 1 was rejected at submission

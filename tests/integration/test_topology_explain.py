"""`hal explain` what-if on the shipped sample, and the Topology reason for a job held by its constraint."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement_explain import reason_for, topology_reason
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec, PendingReason
from hal.model.resources import Resources
from hal.model.topology import Topology

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "hal" / "data" / "kth-sp2-sample.swf"


def test_explain_what_if(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('[[nodes]]\nprefix = "n"\ncount = 64\ncpus = 8\n[topology]\nlevels = ["spine", "switch"]\n'
                    "fanouts = [4, 16]\n")  # fmt: skip
    res = CliRunner().invoke(app, ["explain", "50", "--trace", str(SAMPLE), "--cluster", str(toml)])
    assert res.exit_code == 0, res.output
    assert "job 50 started" in res.output and "alternative 1" in res.output
    rows = [line.split("│")[2:] for line in res.output.splitlines() if "│ chosen" in line or "│ alternative" in line]
    assert rows[0] != rows[1]  # the first alternative was the chosen placement again


def test_topology_reason_and_backfill_around_it() -> None:
    topo = Topology.tree(16, (2, 8), ("spine", "switch"))
    base = Cluster.uniform(16, Resources(cpus=1))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=TopologySelector(topo))
    sched = Scheduler(book, table.space, Profile(), make_predictor("actual"))
    for jid, nodes in ((1, 5), (2, 5)):  # 3 free nodes left in each leaf
        sched.submit(JobSpec(jid, 0.0, tasks=nodes, nodes=nodes, runtime=100.0, time_limit=100.0), 0.0)
    sched.cycle(0.0)
    wide = JobSpec(3, 1.0, tasks=4, nodes=4, switches=1, switches_wait=1000.0, runtime=50.0, time_limit=50.0)
    small = JobSpec(4, 2.0, tasks=2, nodes=2, runtime=50.0, time_limit=50.0)
    sched.submit(wide, 1.0)
    sched.submit(small, 2.0)
    book.now = 2.0
    plan = sched.cycle(2.0)
    assert [p.job_id for p in plan.starts] == [4]  # the small job backfills around the waiting one
    assert reason_for(book, sched.queue.items()[0].req) is PendingReason.TOPOLOGY
    assert topology_reason(sched, 3) == "Topology" and sched.reason_of(3) is PendingReason.TOPOLOGY
    assert sched.reservations[3] == 100.0  # reserved for when a whole leaf frees up

"""Two virtual nodes with real cache directories: the engine sends a job to its data, or the data to it."""

from __future__ import annotations

from pathlib import Path

from hal.data.bridge import LocalityBridge
from hal.data.cache import NodeCache
from hal.data.catalog import Catalog
from hal.data.stager import Stager
from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.topology import TopologySelector
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.model.topology import Topology


def test_job_lands_on_its_data_or_gets_it_staged(tmp_path: Path) -> None:
    base = Cluster.uniform(2, Resources(cpus=4))
    topo = Topology(("site", "switch"), (("onprem", "sw0"), ("onprem", "sw0")))
    cluster = Cluster(base.nodes, base.partitions, topo)
    table = NodeTable.of(cluster)
    names = table.names
    catalog = Catalog()
    caches = {n: NodeCache(n, tmp_path / n, 1 << 20) for n in names}
    stager = Stager(catalog, caches)
    src = tmp_path / "store" / "reads.bam"
    src.parent.mkdir()
    src.write_bytes(b"ACGT" * 50_000)
    catalog.register_file("reads", str(src), home="site=onprem")
    selector = TopologySelector(topo)
    locality = Locality(selector.index)
    selector.data = locality
    LocalityBridge(catalog, locality, names)
    stager.stage_in(0, ("reads",), [names[1]])  # a replica in node 1's cache
    stager.release(0)

    book = NodeBook(table, selector=selector)
    sched = Scheduler(book, table.space, Profile(), make_predictor("actual"))
    job = JobSpec(1, 0.0, tasks=1, per_task=Resources(cpus=1), inputs=("reads",), runtime=10.0, time_limit=60.0)
    sched.submit(job, 0.0)
    plan = sched.cycle(0.0)
    assert [names[n] for n in plan.starts[0].nodes] == [names[1]]  # the job goes to its data
    assert stager.stage_in(1, job.inputs, [names[1]])[0].hit

    filler = JobSpec(2, 0.0, tasks=3, per_task=Resources(cpus=1), runtime=100.0, time_limit=100.0)
    sched.submit(filler, 1.0)
    sched.cycle(1.0)
    second = JobSpec(3, 2.0, tasks=2, per_task=Resources(cpus=1), inputs=("reads",), runtime=10.0, time_limit=60.0)
    sched.submit(second, 2.0)
    plan = sched.cycle(2.0)
    node = names[plan.starts[0].nodes[0]]
    assert node == names[0]  # node 1 is full: the data goes to the job
    staged = stager.stage_in(3, second.inputs, [node])[0]
    assert staged.bytes_copied == 200_000 and (caches[node].root / "reads").read_bytes() == src.read_bytes()
    assert locality.cached["reads"].tolist() == [True, True]  # the new replica is in the engine's view

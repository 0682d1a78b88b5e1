"""Reason DataLocality: a live controller with two virtual nodes, a dataset cached on the busy one and the other
idle. Delay scheduling holds a job reading that dataset for the busy node; squeue's REASON said Resources ("waits
for nodes to free up") with a node idle (QA), while `hal explain` already named the hold."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.cli.show import advice_for
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import enable
from hal.engine.plugins.placement_explain import topology_hold
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree

CLUSTER = switch_tree("two", "vn", 2, 2, "1G", 2)
READ = '#!/bin/sh\ncat "$HAL_DATA/reads" > /dev/null\nsleep {sleep}\n'


def _until(ctl: Controller, job: int, state: str, timeout: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = ctl.store.get(job)
        if row is not None and row["state"] == state:
            return dict(row)
        time.sleep(0.05)
    raise AssertionError(f"job {job} never reached {state}: {ctl.store.get(job)}")


@pytest.mark.parametrize(("delay", "sleep", "where"), [(60, 2, 1), (2, 6, 0)], ids=["local", "remote"])
def test_a_job_held_for_its_data_says_so_and_starts_on_its_data_or_after_the_delay(
    tmp_path: Path, delay: int, sleep: int, where: int
) -> None:
    """Held: reason DataLocality in the listing (hal queue, hal show, REST), with `hal explain`'s words. Then it
    starts on the data's node once that frees (a long delay) or on the idle one once the delay is over."""
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    # 1 KiB/s: staging the 70 KB dataset to the other node takes over a minute, worth waiting for (delay_min)
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "4M", "catalog": str(tmp_path / "c.json"),
            "bandwidth": ["1K"], "latency": [0.0], "delay_min": 5, "delay": delay}  # fmt: skip
    staging = enable(ctl, data)
    names = ctl.table.names
    src = tmp_path / "store" / "reads"
    src.parent.mkdir()
    src.write_bytes(b"GATTACA" * 10_000)
    staging.stager.catalog.register_file("reads", str(src))
    staging.stager.stage_in(0, ("reads",), [names[1]])
    staging.stager.release(0)
    ctl.start()
    try:
        busy = ctl.submit(build_request(READ.format(sleep=sleep), {"input-data": "reads", "ntasks": "2"}, {},
                                        str(tmp_path), 0), "alice").job_ids[0]  # fmt: skip
        assert _until(ctl, busy, "RUNNING")["nodelist"] == names[1]  # its data's node, now full
        job = ctl.submit(build_request(READ.format(sleep=0), {"input-data": "reads"}, {}, str(tmp_path), 0),
                         "alice").job_ids[0]  # fmt: skip
        time.sleep(0.3)  # a pass or two: it stays pending with names[0] idle
        with ctl.lock:
            reason = ctl.reason(job)
            held = topology_hold(ctl.sched, job)
        rows = {r["id"]: r for r in ctl.annotate([dict(r) for r in ctl.store.query()])}
        assert rows[job]["state"] == "PENDING" and rows[busy]["state"] == "RUNNING"
        assert reason == "DataLocality" == rows[job]["reason"]  # was Resources: "waits for nodes to free up"
        assert held is not None and "delay scheduling holds it for nodes holding its --input-data (reads)" in held
        assert "delay scheduling" in advice_for(rows[job])
        ran = _until(ctl, job, "COMPLETED")
        busy_row = _until(ctl, busy, "COMPLETED")
    finally:
        ctl.stop()
    assert ran["nodelist"] == names[where]
    if where == 1:  # waited for the data's node: started once the busy job ended
        assert float(ran["start_time"]) >= float(busy_row["end_time"])  # type: ignore[arg-type]
    else:  # the delay ran out first: staged to the idle node while the busy one still ran
        assert float(ran["start_time"]) < float(busy_row["end_time"])  # type: ignore[arg-type]


def test_the_engine_says_data_locality_under_the_gated_policy_too() -> None:
    """The reason is the engine's (Scheduler.reason_of), so simulator and controller agree; under [data]
    delay_policy = "gated" (DataDelay) as under a plain delay, and asking does not count as a decision to wait."""
    from hal.engine.cycle import Scheduler
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.data_delay import DataDelay, DelayPolicy
    from hal.engine.plugins.locality import Locality, busy_of
    from hal.engine.plugins.topology import TopologySelector
    from hal.engine.predict.registry import make_predictor
    from hal.engine.profile import Profile
    from hal.model.cluster import Cluster, NodeTable
    from hal.model.job import JobSpec, PendingReason
    from hal.model.resources import Resources
    from hal.model.topology import Topology
    from tests.unit.topology.test_locality_stretch import MODEL, PATHS  # racks r0 = 0,1; r1 = 2,3; cloud 4,5

    topo = Topology(("site", "rack"), PATHS)
    inner = TopologySelector(topo)
    loc = Locality(inner.index, MODEL)
    loc.dataset("big", 1e11)  # 100 s inside a rack, 200 s across racks
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 0)
    gate = DataDelay(inner, loc, DelayPolicy(max_wait=1000.0))
    base = Cluster.uniform(6, Resources(cpus=2))
    table = NodeTable.of(Cluster(base.nodes, base.partitions, topo))
    book = NodeBook(table, selector=gate)
    sched = Scheduler(book, table.space, Profile(), make_predictor("actual"))
    for jid, end in ((1, 150.0), (2, 5000.0)):  # rack r0 full: node 0 (the data's) frees at 150 s, node 1 at 5,000 s
        sched.submit(JobSpec(jid, 0.0, tasks=2, node_names=(f"n00{jid - 1}",), runtime=end, time_limit=end), 0.0)
    sched.cycle(0.0)
    loc.running = busy_of(lambda: sched.running.values())  # as the server and the simulator give it
    sched.submit(JobSpec(3, 0.5, tasks=2, inputs=("big",), runtime=1.0, time_limit=100.0), 0.5)
    sched.submit(JobSpec(4, 0.5, tasks=2, runtime=1.0, time_limit=100.0), 0.5)  # no data: nothing holds it
    plan = sched.cycle(0.5)
    assert [p.job_id for p in plan.starts] == [4] and 3 in {w.spec.job_id for w in sched.queue.items()}
    waited = gate.waited
    assert sched.reason_of(3) is PendingReason.DATA_LOCALITY  # was Resources, with nodes 3 to 5 idle
    assert gate.waited == waited
    book.now = 2000.0  # past the policy's max_wait: nothing holds it for its data
    assert sched.reason_of(3) is not PendingReason.DATA_LOCALITY


def test_hal_show_says_what_holds_it_in_the_servers_words() -> None:
    """Why= from the server's words (its advice, as `hal explain` prints them), else the reason's own advice."""
    from hal.cli import show as show_cli
    from tests.unit.cli.test_show import JOB

    pending = {**JOB, "state": "PENDING", "reason": "DataLocality", "nodelist": "", "start_time": None}
    held = "delay scheduling holds it for nodes holding its --input-data (reads) until t=60 s at the latest"
    said = "\n".join(show_cli._lines({**pending, "topology_why": held}))
    assert "Reason=DataLocality" in said and f"Why=free nodes exist, but {held}" in said
    plain = "\n".join(show_cli._lines(pending))
    assert "Why=nodes are free, but delay scheduling keeps it a while for nodes that cache its --input-data" in plain

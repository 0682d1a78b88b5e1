"""Delay scheduling gated by the predicted wait: wait for nodes near the data only when they are expected to free
up before the stage-in they save would have finished; otherwise stage now."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hal.engine.plugins.data_delay import DataDelay, DelayPolicy
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.topology import TopologySelector
from hal.engine.request import Request, request_of
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace
from hal.model.topology import Topology
from tests.unit.topology.test_locality_stretch import MODEL, PATHS  # racks r0 = 0,1; r1 = 2,3; cloud 4,5

SPACE = ResourceSpace()


def setup(policy: DelayPolicy | None = None) -> tuple[DataDelay, Locality]:
    sel = TopologySelector(Topology(("site", "rack"), PATHS))
    loc = Locality(sel.index, MODEL)
    loc.dataset("big", 1e11)  # 100 s inside a rack, 200 s across racks, 1,000 s from the other site
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 0)
    return DataDelay(sel, loc, policy), loc


def busy(loc: Locality, *jobs: tuple[tuple[int, ...], float]) -> None:
    """The engine's running jobs as the shell gives them: each on ``nodes`` with 2 CPUs each, ending at ``end``."""
    loc.running = lambda: [(list(nodes), [2] * len(nodes), end) for nodes, end in jobs]


def req(nodes: int | None = None) -> Request:
    spec = JobSpec(1, 0.0, tasks=2 * (nodes or 1), nodes=nodes, exclusive=nodes is not None, inputs=("big",))
    return request_of(spec, SPACE)


def test_waits_only_when_local_nodes_free_before_the_saving() -> None:
    sel, loc = setup()
    busy_r0 = np.array([0, 0, 2, 2, 2, 2])
    busy(loc, ((0,), 150.0), ((1,), 5000.0))  # node 0 (holds the data) frees in 150 s < 200 s staging elsewhere
    assert sel.select(req(), busy_r0, 2, 0.0) is None and sel.waited == 1
    picked = sel.select(req(), busy_r0, 2, 100.0)  # waited 100 s, 50 s to go: 150 s <= 200 s, keep waiting
    assert picked is None
    picked = sel.select(req(), busy_r0, 2, 120.0)
    assert picked is None
    busy(loc, ((0,), 400.0), ((1,), 5000.0))  # the prediction moved out past the saving: stage elsewhere now
    picked = sel.select(req(), busy_r0, 2, 120.0)
    assert picked is not None and int(picked[0][0]) in (2, 3)


def test_free_local_nodes_are_taken_and_small_savings_never_wait() -> None:
    sel, loc = setup()
    picked = sel.select(req(), np.array([0, 2, 2, 2, 2, 2]), 2, 0.0)  # node 1 shares node 0's rack
    assert picked is not None and list(picked[0]) == [1]
    sel, loc = setup(DelayPolicy(min_saving=500.0))
    busy(loc, ((0, 1), 10.0))
    picked = sel.select(req(), np.array([0, 0, 2, 2, 2, 2]), 2, 0.0)
    assert picked is not None and int(picked[0][0]) in (2, 3)


def test_whole_node_job_needs_enough_local_nodes_in_one_rack() -> None:
    sel, loc = setup()
    busy(loc, ((0,), 50.0), ((1,), 190.0))
    room = np.array([0, 0, 1, 1, 1, 1])
    assert sel.select(req(nodes=2), room, 2, 0.0) is None  # both nodes of rack r0 free by 190 s < 200 s
    busy(loc, ((0,), 50.0), ((1,), 900.0))
    picked = sel.select(req(nodes=2), room, 2, 0.0)
    assert picked is not None and sorted(int(n) for n in picked[0]) == [2, 3]
    sel.policy = DelayPolicy(wide_gb_seconds=10.0)  # a GB kept off the site network is worth 10 s of waiting
    assert sel.select(req(nodes=2), room, 2, 0.0) is None


def test_explain_gives_the_gated_holds_real_limit_the_saving_not_max_wait() -> None:
    """QA: `hal explain` said a gated hold lasted until submit + max_wait; it waits no longer than the stage-in
    seconds it saves (200 s here), and the forecast wakes there too."""
    from hal.engine.plugins.placement_explain import data_hold
    from tests.unit.topology.test_locality_stretch import setup as plain_setup

    inner, loc, book = plain_setup()  # on-premises racks 0-1 and 2-3, cloud rack 4-5
    inner.args = replace(inner.args, data_delay=0.0)  # the gated rule alone holds (as `hal server` sets it up)
    loc.dataset("big", 1e11)
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 5)
    book.select = gated = DataDelay(inner, loc, DelayPolicy(max_wait=1000.0))
    for node in (4, 5):
        spec = JobSpec(10 + node, 0.0, tasks=2, node_names=(f"n00{node}",))
        assert book.allocate(request_of(spec, book.table.space)) is not None
    busy(loc, ((4,), 5000.0), ((5,), 150.0))  # the data's rack is busy; node 5 frees in 150 s
    book.now = 10.0
    job = request_of(JobSpec(2, 0.0, tasks=2, inputs=("big",)), book.table.space)
    assert not book.fits(job) and gated.last_saving == 200.0  # staging on premises takes 200 s more
    assert data_hold(book, job) == 200.0

"""Delay scheduling waits only for data-local nodes the job could take: none drained, enough of them to hold it, and
none whose expected free time has already passed. QA: with every on-premises node idle, a job waited ~278 s in
DataLocality for drained cloud nodes holding its data, and a 3-node job for the cloud's 2 nodes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hal.engine.nodes import NodeBook
from hal.engine.plugins.data_delay import DataDelay, DelayPolicy
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.topology import TopologySelector
from hal.engine.plugins.topology_span import bind_capacity
from hal.engine.request import Request, request_of
from hal.model.job import JobSpec
from tests.unit.topology.test_locality_stretch import setup  # racks r0 = 0,1; r1 = 2,3; cloud c0 = 4,5


def _cloud_data(gated: bool = False) -> tuple[TopologySelector | DataDelay, Locality, NodeBook]:
    """10 GB stored in the cloud: 20 s there, 100 s plus $1 of egress (360 s) on premises; delay 1,000 s."""
    sel, loc, book = setup()
    bind_capacity(book)  # as the engine does: the nodes each request may use
    loc.dataset("d", 1e10)
    loc.add_storage_replica("d", "site", "cloud")
    if gated:
        sel.args = replace(sel.args, data_delay=0.0)  # the gated rule alone holds (as `hal server` sets it up)
        book.select = DataDelay(sel, loc, DelayPolicy(max_wait=1000.0))
    book.now = 10.0
    return book.select, loc, book  # type: ignore[return-value]


def _req(book: NodeBook, nodes: int | None = None, tasks: int = 1) -> Request:
    spec = JobSpec(9, 0.0, tasks=tasks, nodes=nodes, exclusive=nodes is not None, inputs=("d",))
    return request_of(spec, book.table.space)


def _drain_cloud(book: NodeBook) -> None:
    book.set_down(np.arange(6) >= 4)


def test_plain_delay_never_waits_for_drained_nodes() -> None:
    _, _, book = _cloud_data()
    _drain_cloud(book)
    picked = book.allocate(_req(book))  # it waited the whole budget (360 s) for them
    assert picked is not None and int(picked.nodes[0]) < 4


def test_plain_delay_never_waits_for_too_few_nodes() -> None:
    _, _, book = _cloud_data()
    assert book.fits(_req(book, nodes=3))  # the cloud has 2 nodes: it waited for them all the same
    busy = request_of(JobSpec(1, 0.0, tasks=2, node_names=("n004",)), book.table.space)
    assert book.allocate(busy) is not None
    assert not book.fits(_req(book, nodes=2))  # 2 nodes it may wait for: one is busy


def test_gated_delay_never_waits_for_drained_nodes() -> None:
    _, loc, book = _cloud_data(gated=True)
    for node in (4, 5):  # the cloud's nodes are busy for 100 s, well within the 340 s it would save
        assert book.allocate(request_of(JobSpec(node, 0.0, tasks=2, node_names=(f"n00{node}",)), book.table.space))
    loc.running = lambda: [([4, 5], [2, 2], 110.0)]
    assert not book.fits(_req(book, nodes=2))
    _drain_cloud(book)
    assert book.fits(_req(book, nodes=2))  # predicted free at 110 s, but drained: it waited


def test_gated_delay_stops_waiting_once_the_predicted_end_has_passed() -> None:
    """The cloud's jobs outlived their expected ends: when they will end is not known, and the job stages now
    instead of waiting on a prediction proved wrong (it took the nodes as freeing now)."""
    sel, loc, book = _cloud_data(gated=True)
    for node in (4, 5):
        assert book.allocate(request_of(JobSpec(node, 0.0, tasks=2, node_names=(f"n00{node}",)), book.table.space))
    loc.running = lambda: [([4, 5], [2, 2], 5.0)]  # expected at 5 s; still running at 10 s
    picked = book.allocate(_req(book, nodes=2))
    assert picked is not None and set(picked.nodes.tolist()) <= {0, 1, 2, 3}
    assert isinstance(sel, DataDelay) and sel.waited == 0


def test_explain_names_the_nodes_waited_for_and_the_bound_with_its_egress() -> None:
    """QA: `hal explain` said "never longer than staging them ... takes" of a wait bounded by 8 s of staging plus
    270 s of egress priced in seconds, and named neither the nodes it waited for nor when they free."""
    from hal.engine.plugins.placement_explain import held_for_data

    for gated in (False, True):
        _, loc, book = _cloud_data(gated)
        for node in (4, 5):
            assert book.allocate(request_of(JobSpec(node, 0.0, tasks=2, node_names=(f"n00{node}",)), book.table.space))
        loc.running = lambda: [([4], [2], 110.0), ([5], [2], 150.0)]
        said = held_for_data(book, _req(book))
        assert said is not None, gated
        assert "that it may use: n004 (its jobs expected to end by t=110 s), n005 (its jobs expected to end by " in said
        staged = "100.00 s of transfer plus $1.00 of egress priced at 360 s ([data] dollars_per_hour = 10): 460 s"
        if gated:  # it saves 460 - 20 s
            assert f"as long as the stage-in it saves, 440 s: on n000, where it could start now, {staged}, " in said
            assert "against 20.00 s of transfer on n004 ([data] max_wait is longer)" in said, said
        else:
            bound = "until t=460 s at the latest: as long as staging them where it could start now costs, on n000"
            assert f"{bound}: {staged} ([data] delay is longer)" in said, said

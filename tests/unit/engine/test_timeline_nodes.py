"""Timeline.earliest_start on a node book: each state may hold a request alone while their minimum does not, so a
failed window must not make the scan skip a later start that fits. Guards for the sliding-window scan (they pass
on the rescanning scan it replaced too: the results must not change), checked against the plain scan."""

from __future__ import annotations

import random

import numpy as np

from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plugins.placement import best_fit
from hal.engine.request import Request, request_of
from hal.engine.timeline import Timeline
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources


def book_of(nodes: int, cpus: int, bestfit: bool = False) -> NodeBook:
    table = NodeTable.of(Cluster.uniform(nodes, Resources(cpus=cpus)))
    return NodeBook(table, best_fit) if bestfit else NodeBook(table)


def req(book: NodeBook, tasks: int, nodes: int | None = None, exclusive: bool = False) -> Request:
    spec = JobSpec(1, 0.0, tasks=tasks, per_task=Resources(cpus=1), nodes=nodes, exclusive=exclusive)
    return request_of(spec, book.table.space)


def busy(book: NodeBook, node: int, cpus: int) -> NodeAlloc:
    amounts = np.zeros((1, book.free.shape[1]), dtype=np.int64)
    amounts[0, 0] = cpus
    return NodeAlloc(np.array([node], dtype=np.intp), amounts)


def test_a_failed_window_does_not_skip_the_next_start_that_fits() -> None:
    """Two 1-CPU nodes: n0 free on [0, 10), n1 from 10 on, both from 20. A 15 s job fits each state alone but
    not their minimum from 0; from 10 it fits on n1, and neither a jump past the window nor to 20 is right."""
    book = book_of(2, 1)
    tl = Timeline(book, 0.0, [])
    tl.reserve(0.0, 10.0, busy(book, 1, 1))
    tl.reserve(10.0, 10.0, busy(book, 0, 1))
    got = tl.earliest_start(req(book, 1), 15.0)
    assert got is not None
    assert got[0] == 10.0 and got[1].nodes.tolist() == [1]


def test_a_long_window_slides_one_breakpoint_at_a_time() -> None:
    """Four 1-CPU nodes, node k busy on [10k, 10k + 10): every state has three free nodes, the window of a 40 s
    job from 0 has none and from 10 one; a 2-node job fits from 20, nodes 0 and 1 done with."""
    book = book_of(4, 1)
    tl = Timeline(book, 0.0, [])
    for k in range(4):
        tl.reserve(10.0 * k, 10.0, busy(book, k, 1))
    got = tl.earliest_start(req(book, 2, nodes=2), 40.0)
    assert got is not None
    assert got[0] == 20.0 and got[1].nodes.tolist() == [0, 1]
    whole = tl.earliest_start(req(book, 4, nodes=4), 25.0)
    assert whole is not None and whole[0] == 40.0


def test_matches_the_plain_scan_on_random_timelines() -> None:
    """Start and placement equal to the plain scan's (every breakpoint, the minimum over its whole window)."""
    rng = random.Random(20240611)
    for case in range(300):
        book = book_of(rng.randint(2, 5), rng.randint(1, 4), bestfit=case % 2 == 1)
        nodes, cpus = book.free.shape[0], int(book.table.capacity[0, 0])
        tl = Timeline(book, 0.0, [])
        for _ in range(rng.randint(1, 12)):
            start, length = float(rng.randint(0, 60)), float(rng.randint(1, 40))
            tl.reserve_if_room(start, length, busy(book, rng.randrange(nodes), rng.randint(1, cpus)))
        for _ in range(6):
            pinned = rng.random() < 0.4
            n = rng.randint(1, nodes)
            r = req(book, n * (1 if pinned else rng.randint(1, cpus)), n if pinned else None, rng.random() < 0.2)
            duration = float(rng.choice([1, 5, 15, 30, 45, 80]))
            fast, plain = tl.earliest_start(r, duration), tl._earliest_any(r, duration)
            if plain is None:
                assert fast is None
                continue
            assert fast is not None and fast[0] == plain[0], (case, r, duration)
            assert fast[1].nodes.tolist() == plain[1].nodes.tolist()
            assert np.array_equal(fast[1].amounts, plain[1].amounts)

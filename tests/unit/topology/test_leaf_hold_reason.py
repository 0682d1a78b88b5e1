"""A head the leaf-aware EASY reservation (a profile's topology_reserve) holds for its fewest leaves while
enough nodes are free over more shows reason Topology, and `hal explain` / the advice call say what holds it
and until when; the candidates offered are only those it may take. QA: it showed Resources, "waits for nodes
to free up", with the advice's topology null and a two-leaf candidate on the idle nodes."""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.plugins.leaf_reserve import LeafReserver
from hal.engine.plugins.placement_explain import alternatives, topology_hold
from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import PendingReason
from tests.unit.topology.test_leaf_reserve import job, machine


def test_a_head_held_for_one_leaf_says_topology_and_why() -> None:
    """Two leaves of 4 nodes: job 1 (3 nodes, 100 s) fills leaf 0 but node 3, job 2 (3 nodes, 1,000 s) leaf 1 but
    node 7, job 3 takes node 3 for 50 s. At 50 s the head (2 nodes) fits on nodes 3 and 7, over both leaves, and
    is held for leaf 0 at 100 s."""
    book, sel = machine()
    book.reserver = LeafReserver(sel, wait=500.0)
    s = Scheduler(book, book.table.space, Profile(order="fcfs", backfill="easy"), make_predictor("user"))
    limits = {1: 100.0, 2: 1000.0, 3: 50.0, 4: 300.0, 5: 2000.0}
    for jid, nodes in ((1, 3), (2, 3), (3, 1), (4, 2), (5, 2)):
        s.submit(job(jid, nodes, limits[jid]), 0.0)
    s.cycle(0.0)
    s.finish(3, 50.0)
    assert s.cycle(50.0).starts == [] and s.reservations[4] == 100.0
    assert s.reason_of(4) is PendingReason.TOPOLOGY
    said = topology_hold(s, 4)
    assert said is not None and "topology_reserve" in said and "within one switch" in said, said
    assert "n000,n003" in said and "when its hold's wait runs out" in said, said
    assert "t=100 s" in said and "1970" not in said, said  # a trace clock's times as seconds, not epoch dates
    item = s.queue.get(4)
    assert item is not None and alternatives(sel, book, item.req) == []  # n[003,007] spans both leaves
    s.finish(1, 100.0)
    started = {p.job_id: p.nodes for p in s.cycle(100.0).starts}
    assert {n // 4 for n in started[4]} == {0}


def test_a_job_that_fits_in_its_fewest_leaves_is_not_said_held() -> None:
    book, sel = machine()
    book.reserver = LeafReserver(sel, wait=500.0)
    s = Scheduler(book, book.table.space, Profile(order="fcfs", backfill="easy"), make_predictor("user"))
    for jid, nodes in ((1, 4), (2, 4), (3, 2)):
        s.submit(job(jid, nodes, 100.0), 0.0)
    s.cycle(0.0)
    assert s.reason_of(3) is PendingReason.RESOURCES and topology_hold(s, 3) is None

"""A node book's memo key (Book.memo_key): a request that does not fit rules out its family's requests of the
same or a larger size, so -w/--nodelist and -x/--exclude must be part of the family. Without them a job held to
a busy node (or kept off the free one) ruled out a twin that fits."""

from __future__ import annotations

from hal.engine.nodes import NodeBook
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources


def busy_first() -> NodeBook:
    """Two 1-CPU nodes, n000 busy."""
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=1)))
    book = NodeBook(table)
    taken = book.allocate(request(node_names=("n000",)))
    assert taken is not None
    return book


def request(tasks: int = 1, **kw: object) -> Request:
    spec = JobSpec(1, 0.0, tasks=tasks, time_limit=60.0, **kw)  # type: ignore[arg-type]
    return request_of(spec, NodeTable.of(Cluster.uniform(2, Resources(cpus=1))).space)


def rules_out(book: NodeBook, failed: Request, other: Request) -> bool:
    """What the planners conclude from ``failed`` not fitting: ``other`` cannot fit either."""
    (fam_a, size_a), (fam_b, size_b) = book.memo_key(failed), book.memo_key(other)
    return fam_a == fam_b and size_b >= size_a


def test_a_failure_rules_out_only_requests_that_cannot_fit_either() -> None:
    book = busy_first()
    held = request(node_names=("n000",))  # -w the busy node
    kept_off_free = request(exclude_nodes=("n001",))  # -x the free node: only the busy one is left
    cases = [
        (held, request()),  # no pin: n001 is free
        (held, request(node_names=("n001",))),  # -w the free node
        (kept_off_free, request(exclude_nodes=("n000",))),  # -x the busy node
        (kept_off_free, request()),
    ]
    for failed, other in cases:
        assert book.allocate(failed) is None
        assert book.fits(other), other
        assert not rules_out(book, failed, other), (failed.node_names, failed.exclude_nodes, other)


def test_the_same_pins_still_share_a_family() -> None:
    """Memoizing stays useful: with the same -w (or -x), a request rules out the larger ones."""
    book = busy_first()
    one, two = request(node_names=("n000",)), request(tasks=2, node_names=("n000",))
    assert book.allocate(one) is None and rules_out(book, one, two) and not book.fits(two)
    assert rules_out(book, request(exclude_nodes=("n001",)), request(tasks=2, exclude_nodes=("n001",)))

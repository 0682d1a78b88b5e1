"""Timeline: free resources as a step function, the earliest start of a request, and reservations."""

from __future__ import annotations

from hal.engine.capacity import PoolBook
from hal.engine.request import Request, request_of
from hal.engine.timeline import Timeline
from hal.model.job import JobSpec
from hal.model.resources import ResourceSpace


def req(procs: int) -> Request:
    return request_of(JobSpec(job_id=1, submit_time=0, tasks=procs), ResourceSpace())


def busy_pool() -> tuple[PoolBook, Timeline]:
    """10 processors, 8 busy now: 4 come back at t=100, 4 more at t=200."""
    book = PoolBook((10, 0, 0))
    book.take((8, 0, 0))
    return book, Timeline(book, 0.0, [(200.0, (4, 0, 0)), (100.0, (4, 0, 0))])


def test_releases_become_breakpoints() -> None:
    _, tl = busy_pool()
    assert tl.times == [0.0, 100.0, 200.0]
    assert tl.states == [[2, 0, 0], [6, 0, 0], [10, 0, 0]]


def test_release_in_the_past_counts_now() -> None:
    book = PoolBook((4, 0, 0))
    book.take((4, 0, 0))
    tl = Timeline(book, 50.0, [(10.0, (4, 0, 0))])
    assert tl.times == [50.0] and tl.states == [[4, 0, 0]]


def test_earliest_start() -> None:
    _, tl = busy_pool()
    assert tl.earliest_start(req(2), 1000) == (0.0, (2, 0, 0))
    assert tl.earliest_start(req(5), 10) == (100.0, (5, 0, 0))
    assert tl.earliest_start(req(10), 10) == (200.0, (10, 0, 0))
    assert tl.earliest_start(req(11), 10) is None


def test_reserve_carves_a_span_and_later_requests_go_around_it() -> None:
    _, tl = busy_pool()
    tl.reserve(100.0, 50.0, (6, 0, 0))
    assert tl.times == [0.0, 100.0, 150.0, 200.0]
    assert tl.states == [[2, 0, 0], [0, 0, 0], [6, 0, 0], [10, 0, 0]]
    assert tl.earliest_start(req(3), 10) == (150.0, (3, 0, 0))
    assert tl.earliest_start(req(2), 100) == (0.0, (2, 0, 0))  # ends exactly when the reservation begins
    # the request must fit for its whole duration: 101 s from 0 would cross [100, 150)
    assert tl.earliest_start(req(2), 101) == (150.0, (2, 0, 0))


def test_unreserve_gives_the_span_back() -> None:
    _, tl = busy_pool()
    tl.reserve(120.0, 30.0, (6, 0, 0))
    tl.unreserve(120.0, 30.0, (6, 0, 0))
    assert tl.states == [[2, 0, 0], [6, 0, 0], [6, 0, 0], [6, 0, 0], [10, 0, 0]]
    assert tl.earliest_start(req(6), 100) == (100.0, (6, 0, 0))

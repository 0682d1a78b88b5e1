"""PoolBook: fungible resources, as SWF traces and the reference simulators model a machine."""

from __future__ import annotations

import pytest

from hal.engine.capacity import PoolBook
from hal.engine.request import request_of
from hal.model.job import JobSpec
from hal.model.resources import Resources, ResourceSpace
from hal.sim.simulator import pool_for


def req(cpus: int, mem: int = 0, gpus: int = 0, extras: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    per = Resources(cpus, mem, gpus, extras or {})
    space = ResourceSpace.covering(per)
    return request_of(JobSpec(job_id=1, submit_time=0, per_task=per), space)


def test_allocate_take_release() -> None:
    book = PoolBook((8, 1000, 1))
    a = book.allocate(req(3, 500))
    assert a == (3, 500, 0) and book.free == [5, 500, 1]
    assert book.allocate(req(1, 600)) is None and book.free == [5, 500, 1]  # all or nothing
    assert book.fits(req(5, 500, 1)) and not book.fits(req(6))
    book.release(a)
    assert book.idle() and book.free_cpus() == 8
    book.take((8, 0, 0))
    assert book.free_cpus() == 0 and not book.idle()


def test_impossible_names_the_resource() -> None:
    book = PoolBook((8, 1000, 0))
    assert book.impossible(req(9)) == "needs 9 cpus, the machine has 8"
    assert book.impossible(req(1, 2000)) == "needs 2000 mem_mb, the machine has 1000"
    assert book.impossible(req(1, 0, 1)) == "needs 1 gpus, the machine has 0"
    assert book.impossible(req(1, extras={"lic": 1})) == "needs a resource the machine does not have"
    assert book.impossible(req(8, 1000)) is None


def test_planning_states_are_copies() -> None:
    book = PoolBook((4, 0, 0))
    state = book.snapshot()
    book.state_sub(state, (3, 0, 0))
    assert book.free == [4, 0, 0]
    assert book.state_place(state, req(2)) is None and book.state_place(state, req(1)) == (1, 0, 0)
    other = book.copy(state)
    book.state_add(other, (3, 0, 0))
    assert state == [1, 0, 0] and other == [4, 0, 0]
    assert book.state_min(state, other) == [1, 0, 0]


def test_pool_for_is_a_processor_counter() -> None:
    book, space = pool_for(100)
    assert book.total() == (100, 0, 0) and space.names == ("cpus", "mem_mb", "gpus")
    assert book.nodes_of(book.allocate(req(10))) == (0,)
    with pytest.raises(ValueError):
        PoolBook((-1, 0, 0))

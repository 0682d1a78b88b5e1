"""The allocation book: what is free now, and planning states to try placements in the future.

Two books share one interface: a pool of fungible resources (a processor counter, what SWF traces and
the reference simulators model) and a node table (real placement over nodes, see nodes.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from hal.engine.request import Request

Alloc = Any  # a book's own allocation record, opaque to the planner
State = Any  # a book's own planning state (free resources at some future time)


class Book(Protocol):
    """Free resources now, plus the state algebra the planners (EASY, conservative) need.

    ``time_invariant``: whether a placement depends only on the free resources (not on the time), so a
    request that failed to fit keeps failing until resources are freed (the planners memoize on it).
    ``fungible``: whether an allocation is determined by the request alone (not by where it lands).
    ``now``: the time of the cycle being planned, which the scheduler sets before each one (a placement
    constraint may relax with time: Slurm's --switches maxwait, a leaf reservation's hold).
    """

    now: float

    @property
    def time_invariant(self) -> bool: ...

    @property
    def fungible(self) -> bool: ...

    def memo_key(self, req: Request) -> tuple[object, int]:
        """(family, size): a request that does not fit rules out its family's requests of size >= its own, so the
        family must hold all that limits where a request may go (partition, features, -w/-x)."""
        ...

    def cpus_of(self, alloc: Alloc) -> int: ...

    def impossible(self, req: Request) -> str | None: ...

    def fits(self, req: Request) -> bool: ...

    def allocate(self, req: Request) -> Alloc | None: ...

    def take(self, alloc: Alloc) -> None: ...

    def release(self, alloc: Alloc) -> None: ...

    def nodes_of(self, alloc: Alloc) -> tuple[int, ...]: ...

    def idle(self) -> bool: ...

    def total(self) -> tuple[int, ...]: ...

    def free_cpus(self) -> int: ...

    def snapshot(self) -> State: ...

    def copy(self, state: State) -> State: ...

    def state_add(self, state: State, alloc: Alloc) -> None: ...

    def state_sub(self, state: State, alloc: Alloc) -> None: ...

    def state_place(self, state: State, req: Request) -> Alloc | None: ...

    def state_min(self, a: State, b: State) -> State: ...

    def state_ok(self, state: State) -> bool:
        """No resource below zero (reservations laid on a machine that changed may overlap)."""
        ...


class PoolBook:
    """Fungible resources: a request fits when every component of its total is free."""

    time_invariant = True
    fungible = True
    now = 0.0

    def __init__(self, capacity: tuple[int, ...]) -> None:
        if any(c < 0 for c in capacity):
            raise ValueError("capacity must be >= 0")
        self.capacity = tuple(capacity)
        self.free = list(capacity)

    def memo_key(self, req: Request) -> tuple[object, int]:
        return req.per_task, req.tasks

    def cpus_of(self, alloc: tuple[int, ...]) -> int:
        return alloc[0]

    def impossible(self, req: Request) -> str | None:
        total = req.total
        for name, need, have in zip(("cpus", "mem_mb", "gpus"), total, self.capacity, strict=False):
            if need > have:
                return f"needs {need} {name}, the machine has {have}"
        if len(total) > len(self.capacity) and any(total[len(self.capacity) :]):
            return "needs a resource the machine does not have"
        return None

    def fits(self, req: Request) -> bool:
        return all(n <= f for n, f in zip(req.total, self.free, strict=False))

    def allocate(self, req: Request) -> tuple[int, ...] | None:
        total = req.total
        free = self.free
        for i, need in enumerate(total):
            if need > free[i]:
                return None
        for i, need in enumerate(total):
            free[i] -= need
        return total

    def take(self, alloc: tuple[int, ...]) -> None:
        for i, v in enumerate(alloc):
            self.free[i] -= v

    def release(self, alloc: tuple[int, ...]) -> None:
        for i, v in enumerate(alloc):
            self.free[i] += v

    def nodes_of(self, alloc: tuple[int, ...]) -> tuple[int, ...]:
        return (0,)

    def idle(self) -> bool:
        return tuple(self.free) == self.capacity

    def total(self) -> tuple[int, ...]:
        return self.capacity

    def free_cpus(self) -> int:
        return self.free[0]

    def snapshot(self) -> list[int]:
        return list(self.free)

    def copy(self, state: list[int]) -> list[int]:
        return list(state)

    def state_add(self, state: list[int], alloc: tuple[int, ...]) -> None:
        for i, v in enumerate(alloc):
            state[i] += v

    def state_sub(self, state: list[int], alloc: tuple[int, ...]) -> None:
        for i, v in enumerate(alloc):
            state[i] -= v

    def state_place(self, state: list[int], req: Request) -> tuple[int, ...] | None:
        total = req.total
        for i, need in enumerate(total):
            if need > state[i]:
                return None
        return total

    def state_min(self, a: list[int], b: list[int]) -> list[int]:
        return [x if x < y else y for x, y in zip(a, b, strict=True)]

    def state_ok(self, state: list[int]) -> bool:
        return min(state) >= 0

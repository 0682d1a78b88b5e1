"""What the session manager asks of the resource layer: slots of an application's per-instance size.

A slot is one service instance's worth of resources, held from the scheduler like a one-task job, so
priority, fair share and preemption treat HTC and batch work alike. The manager states its whole desire
(``ask``); the provider answers with grants and reclaims (``poll``); the manager gives slots back
(``release``) when its sessions no longer need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hal.model.resources import Resources


@dataclass(frozen=True, slots=True)
class SlotAsk:
    """``count`` slots (held plus still pending) of ``per_slot`` for ``pool`` on behalf of ``user``."""

    pool: str
    user: str
    per_slot: Resources
    count: int
    priority: int = 1


@dataclass(frozen=True, slots=True)
class Granted:
    """``cpus``: the host cores the slot's instance is pinned to (empty: the provider names none); ``gpus``: the
    GPU ids it may see (CUDA_VISIBLE_DEVICES), when the slot holds GPUs."""

    slot: int
    pool: str
    user: str
    cpus: tuple[int, ...] = ()
    gpus: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Reclaimed:
    """The scheduler took the slot back (preemption); the instance must stop now and its tasks go back."""

    slot: int
    pool: str
    reason: str


@dataclass(frozen=True, slots=True)
class Retire:
    """The slot's node was drained: its instance finishes the tasks it holds, takes no more, and gives the slot
    back (a drain lets running work end and starts nothing new there, as for batch jobs)."""

    slot: int
    pool: str
    reason: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The scheduler can never hold a slot of this size (bigger than any node, GPUs the machine lacks): the
    manager fails the sessions' queued tasks with ``reason`` instead of letting them wait forever."""

    pool: str
    user: str
    reason: str


SlotEvent = Granted | Reclaimed | Retire | Refused


class SlotProvider(Protocol):
    def ask(self, asks: Sequence[SlotAsk]) -> None:
        """The manager's whole desire; (pool, user) pairs not listed want nothing more. Pending requests above
        the new count are withdrawn; held slots are only ever given back through ``release``."""
        ...

    def release(self, slot: int) -> None: ...

    def poll(self) -> list[SlotEvent]:
        """Grants and reclaims since the last call; never blocks."""
        ...

    def stats(self) -> dict[str, int]:
        """Held and pending slot counts, for observability."""
        ...

    def never(self, per_slot: Resources) -> str | None:
        """Why a slot of this size can never be held (bigger than any node, GPUs the machine lacks), or None."""
        ...

    def close(self) -> None: ...

"""How a service instance leaves its slot: lost (its tasks retried or charged), released when no longer needed, or
aborted with the session whose tasks it runs. A part of the Manager (manager.py), apart to keep modules small."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from hal.htc import guard, wire
from hal.htc.losses import lost_tasks
from hal.htc.slots import SlotAsk, SlotProvider
from hal.htc.state import Instance, SessionState


class InstanceEnds:
    """The Manager's methods that end instances; the attributes are the Manager's."""

    instances: dict[int, Instance]
    sessions: dict[int, SessionState]
    by_slot: dict[int, int]
    slot_devices: dict[int, Any]
    provider: SlotProvider
    close_conn: Callable[[Any], None]
    dirty: bool
    _last_asks: list[SlotAsk]

    def _drop_instance(self, inst: Instance, preempted: bool, reason: str) -> None:
        self.instances.pop(inst.iid, None)
        guard.kill(inst.proc)
        if inst.conn is not None:
            self.close_conn(inst.conn)
        running = inst.beacon.running() if inst.beacon is not None else None
        if inst.beacon is not None:
            inst.beacon.release()
        s = self.sessions.get(inst.sid) if inst.sid is not None else None
        if s is not None:
            s.instances.discard(inst.iid)
            tasks = list(inst.outstanding.items())
            s.inflight -= len(tasks)
            if preempted:
                s.counters.requeued += len(tasks)
            else:
                tasks = lost_tasks(s, inst, reason, running)
            s.requeue_front(tasks)
        inst.outstanding.clear()
        self.dirty = True

    def abort_instance(self, inst: Instance, s: SessionState, lost: str = "") -> None:
        """Kills an instance running tasks of a session that ended and frees its slot: its tasks end cancelled, so
        the session's counters add up (QA: a hung task held its slot forever and the application's next sessions
        never got one)."""
        self.instances.pop(inst.iid, None)
        self.by_slot.pop(inst.slot, None)
        self.slot_devices.pop(inst.slot, None)
        s.instances.discard(inst.iid)
        guard.kill(inst.proc)
        if inst.conn is not None:
            self.close_conn(inst.conn)
        if inst.beacon is not None:
            inst.beacon.release()
        for tid in inst.outstanding:  # ``lost``: why they ended, when no one cancelled them (a stopping server)
            s.emit((tid, wire.S_LOST, lost.encode()) if lost else (tid, wire.S_CANCELLED, b""))
        if lost:
            s.counters.failed += len(inst.outstanding)
        else:
            s.counters.cancelled += len(inst.outstanding)
        s.inflight -= len(inst.outstanding)
        inst.outstanding.clear()
        self.provider.release(inst.slot)
        self._last_asks = []  # a slot fewer, perhaps with the same asks: state them again

    def release_slot(self, inst: Instance) -> None:
        self.instances.pop(inst.iid, None)
        self.by_slot.pop(inst.slot, None)
        self.slot_devices.pop(inst.slot, None)
        s = self.sessions.get(inst.sid) if inst.sid is not None else None
        if s is not None:
            s.instances.discard(inst.iid)
        if inst.conn is not None:
            inst.conn.send((wire.STOP,))
            inst.conn.flush()
            self.close_conn(inst.conn)
        guard.kill(inst.proc, signal.SIGTERM)
        if inst.beacon is not None:
            inst.beacon.release()
        self.provider.release(inst.slot)

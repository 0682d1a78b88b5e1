"""The parts of each launched job's placement score, kept as a ``PLACED`` event on the job so `hal explain`
shows them while it runs, after it ended, and across restarts (they describe the machine as it was then)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from hal.engine.plan import Placement

EVENT = "PLACED"


def record_placements(ctl: Any, conn: Connection, starts: list[Placement], now: float) -> None:
    """Under the controller's lock, in the launch transaction: one event per start placed by a topology
    selector (first fit has no score to show)."""
    from hal.engine.plugins.placement_parts import parts_of, room_of
    from hal.engine.plugins.topology import TopologySelector

    book = ctl.book
    sel = getattr(book.select, "inner", book.select)  # gated delay scheduling wraps the topology selector
    if not isinstance(sel, TopologySelector):
        return
    events = []
    for p in starts:
        act = ctl.sched.running.get(p.job_id)
        if act is None:
            continue
        book.release(act.alloc)  # the score is about the machine as it was before this placement
        try:
            room, _ = room_of(book, act.item.req, lists=False)
        finally:
            book.take(act.alloc)
        parts = parts_of(sel, act.item.req, act.alloc.nodes, room).as_dict()
        events.append((p.job_id, now, EVENT, json.dumps(parts)))
    if events:
        ctl.store.add_events(conn, events)


def placement_of(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The parts recorded at the job's latest launch (None: none recorded)."""
    for ev in reversed(events):
        if ev["state"] == EVENT:
            try:
                got = json.loads(ev["cause"])
            except (TypeError, ValueError):
                return None
            return got if isinstance(got, dict) else None
    return None

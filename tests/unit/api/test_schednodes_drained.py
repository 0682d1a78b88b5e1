"""SCHEDNODES from a forecast made before a drain: listed while a slow new forecast is made (a forecast that
costs more than the listing's wait answers with the last one), they named the drained node. They are left out
until the new forecast; the planner's own holds are shown as they are."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from hal.api.forecast_state import PLANNED, planned_nodes
from hal.controller.reasons import FORECAST_NODES
from hal.engine.cycle import Scheduler
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for


def ctl_with_queue() -> SimpleNamespace:
    """Four one-CPU nodes, all busy; jobs 5 (the head) and 6 pending."""
    book, space = pool_for(4)
    s = Scheduler(book, space, Profile(), UserEstimate())
    for jid in range(1, 7):
        s.submit(JobSpec(jid, 0.0, tasks=1, time_limit=600.0 * jid), 0.0)
    s.cycle(0.0)
    names = [f"n{i}" for i in range(4)]
    return SimpleNamespace(
        book=SimpleNamespace(table=SimpleNamespace(names=names)), lock=threading.RLock(), sched=s, drained={}
    )


def test_forecast_nodes_naming_a_drained_node_are_not_listed() -> None:
    ctl = ctl_with_queue()
    rows = [{"id": 6, "state": "PENDING", FORECAST_NODES: (2,)}, {"id": 7, "state": "PENDING", FORECAST_NODES: (3,)}]
    assert [r.get(PLANNED) for r in planned_nodes(ctl, [dict(r) for r in rows])] == ["n2", "n3"]
    ctl.drained["n2"] = {"reason": "bad disk"}
    assert [r.get(PLANNED) for r in planned_nodes(ctl, [dict(r) for r in rows])] == [None, "n3"]

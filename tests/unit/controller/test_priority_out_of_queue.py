"""sprio (`hal prio`) and `hal show` weigh a pending job that is out of the queue (held, --begin, a dependency) with
the fair share of now, as `hal shares` prints it: they used the last cycle that had a queue, so with the queue empty
since, a user's FAIRSHARE factor stayed 1.0 while `hal shares` said 0.5 (QA LOW)."""

from __future__ import annotations

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.priority import priorities, shares
from tests.unit.controller.test_forecast_errors_live import Clock, end, live, submit

__all__ = ["live"]  # the fixture
ADMIN = Identity("root", admin=True)


def test_a_held_jobs_fair_share_is_todays_when_the_queue_is_empty(live: tuple[Controller, Clock]) -> None:
    ctl, clock = live
    (first,) = submit(ctl, {"time": "1:00", "ntasks": "2"}, 20)
    ctl.run_cycle()  # it starts: the queue is empty from here on, and ada has no usage in that cycle's view
    end(ctl, first, 1600.0)
    clock.now = 1601.0
    ctl.run_cycle()
    (held,) = submit(ctl, {"time": "1:00", "hold": ""}, 20)
    ctl.run_cycle()
    factor = next(r["fairshare"] for r in shares(ctl, ADMIN)["users"] if r["user"] == "ada")
    assert 0.0 < factor < 1.0  # she has used the machine
    row = next(r for r in priorities(ctl, ADMIN)["jobs"] if r["job_id"] == held)
    weight = priorities(ctl, ADMIN)["weights"]["fairshare"]
    assert abs(row["factors"]["fairshare"] - weight * factor) <= 0.01 * weight, (row, factor)

"""A requeue request already served is not served again at a restart (CI: a kill -9 just after `hal requeue` ran the
job a third time, restarts=2): the run that followed began in the cycle that took the job back, its start stamped
with that cycle's time, before the request's, so the request looked newer than the run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hal.controller.attempts import BACK
from hal.controller.requeue import ASKED, asked_before_restart
from hal.controller.store import Store, sqlite_url


def test_a_request_the_job_went_back_to_the_queue_for_is_served(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    ctl = SimpleNamespace(store=store)
    with store.engine.begin() as conn:
        store.add_events(conn, [(1, 10.0, ASKED, "requeue asked by al"), (1, 10.5, *BACK)])
    assert asked_before_restart(ctl, 1, started=9.9) == (None, False)  # the next run, stamped before the request
    with store.engine.begin() as conn:
        store.add_events(conn, [(1, 20.0, ASKED, "requeue asked by bo")])
    assert asked_before_restart(ctl, 1, started=15.0) == ("bo", False)  # asked again during that run: not served
    store.close()

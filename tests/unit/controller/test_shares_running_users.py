"""sshare lists every association; `hal shares` listed a user with a pending job (zero usage) but not one whose
only jobs run: their row came once the first job ended."""

from __future__ import annotations

import time
from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.priority import shares


def test_pending_and_running_users_have_rows_with_zero_usage(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('name = "c"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\nmem = "1G"\n')
    opts = ServerOptions(home=tmp_path / "home", executor="local", cluster=tmp_path / "c.toml", grace=0.0)
    ctl, _app, store, executor = build(opts)
    try:
        job = build_request("#!/bin/sh\nsleep 30\n", {"time": "5"}, {}, str(tmp_path), 0)
        running = ctl.submit(job, "alice").job_ids[0]
        ctl.run_cycle()
        waiting = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"time": "5"}, {}, str(tmp_path), 0), "bob").job_ids[0]
        ctl.run_cycle()
        deadline = time.monotonic() + 10
        while (store.get(running) or {}).get("state") != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (store.get(running) or {})["state"] == "RUNNING" and (store.get(waiting) or {})["state"] == "PENDING"
        rows = {r["user"]: r for r in shares(ctl, Identity("root", admin=True))["users"]}
        assert rows["bob"]["raw_usage"] == 0.0 and rows["bob"]["fairshare"] == 1.0  # pending: listed already
        assert 0.0 <= rows["alice"]["raw_usage"] < 30.0  # listed; its usage accrues as it runs (engine/accrual.py)
    finally:
        executor.shutdown(cancel_running=True)
        store.close()

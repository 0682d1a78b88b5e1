"""A held array task released while it waits behind its %limit entered the engine later with its spec as submitted,
so multifactor aged it from submission (Slurm: from its EligibleTime, the release) until a restart rebuilt it."""

from __future__ import annotations

import time
from pathlib import Path

from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.machine import Machine
from hal.controller.priority import priorities
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"  # 4 nodes x 2 CPUs
ROOT = Identity("root", admin=True)


def test_a_task_released_behind_its_limit_ages_from_its_release(tmp_path: Path) -> None:
    now = [time.time()]
    store = Store(sqlite_url(tmp_path / "hal.db"))
    executor = LocalExecutor(tmp_path / "spool", kill_wait=1.0)
    profile = Profile(order="multifactor", order_args={"max_age": 3600.0})
    ctl = Controller(store, Machine.load(EXAMPLE), executor, profile, clock=lambda: now[0])
    recover(ctl)

    def submit(options: dict[str, str]) -> str:
        req = build_request("#!/bin/sh\nexec sleep 600\n", options, {}, str(tmp_path), 0)
        return ctl.submit(req, "alice").job_ids[0]

    try:
        submit({"ntasks": "8"})
        ctl.run_cycle()  # the whole machine is busy
        array = submit({"array": "0-1%1"})
        ctl.run_cycle()  # task 0 waits in the engine, task 1 behind the %limit
        set_hold(ctl, f"{array}_1", ROOT, True)
        now[0] += 600.0
        set_hold(ctl, f"{array}_1", ROOT, False)  # eligible from now
        now[0] += 60.0
        ctl.cancel(f"{array}_0", ROOT)  # its slot goes to task 1
        ctl.run_cycle()
        rows = {j["job_id"]: j for j in priorities(ctl, ROOT)["jobs"]}
        task1 = next(j for j in rows.values() if j.get("array_task_id") == 1)
        assert task1["factors"]["age"] == round(1000 * 60 / 3600, 2), task1  # it aged from submission (660 s)
    finally:
        executor.shutdown(cancel_running=True)
        store.close()

"""`hal hold` / `hal release` and `hal submit -H` (Slurm's scontrol hold/release, sbatch -H) on a real server."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.livekit import LiveServer, cancel, finished, show, submit, until_state


def _cycled(live: LiveServer) -> None:
    """A job submitted now has run and ended: the scheduler has had every job before it in hand (a fixed 1 s
    before), so a held one that was going to start has started."""
    assert finished(live, submit(live)) == "COMPLETED"


def test_held_jobs_wait_for_release_even_across_a_restart(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        user = live.new_user("ann")  # a user's own -H (an administrator's is JobHeldAdmin: test_admin_holds.py)
        held = live.cli("submit", "--parsable", "-H", "--wrap", "true", "-t", "1:00", token=user, check=True)
        held = held.stdout.strip()
        script = tmp_path / "work" / "held.sh"
        script.write_text("#!/bin/sh\n#SBATCH -H\ntrue\n")
        by_directive = live.cli("submit", "--parsable", str(script), token=user, check=True).stdout.strip()
        later = submit(live, begin="now+3600")  # the SDK where `hal submit` is not the subject
        _cycled(live)
        for job in (held, by_directive):
            rec = show(live, job)
            assert rec["state"] == "PENDING" and rec["reason"] == "JobHeldUser", rec
        assert "hal release JOB lets it start" in " ".join(live.cli("show", held, check=True).stdout.split())
        assert "JobHeldUser" in live.cli("queue", check=True).stdout
        live.cli("hold", later, check=True)  # an administrator's hold, of their own job too (Slurm's operator hold)
        assert show(live, later)["reason"] == "JobHeldAdmin"
        live.kill()  # SIGKILL: the holds are in the records, not only in memory
        live.start()
        _cycled(live)
        assert [show(live, j)["reason"] for j in (held, by_directive, later)] == ["JobHeldUser"] * 2 + ["JobHeldAdmin"]
        done = live.cli("release", held, by_directive, check=True).stdout
        assert "released job " in done
        until_state(live, held, "COMPLETED")
        until_state(live, by_directive, "COMPLETED")
        live.cli("release", later, check=True)
        assert show(live, later)["reason"] == "BeginTime"  # its --begin still holds it
        again = live.cli("hold", held)
        assert again.returncode != 0 and "no longer pending (COMPLETED)" in " ".join(again.stderr.split())
        other = live.new_user("bob")
        refused = live.cli("hold", later, token=other)
        assert refused.returncode != 0 and "your own jobs" in " ".join(refused.stderr.split())
        cancel(live, later)
        job = submit(live, begin="now+3600", token=other)
        live.cli("hold", job, check=True)  # an administrator holds bob's job: Slurm's JobHeldAdmin
        assert show(live, job)["reason"] == "JobHeldAdmin"
        refused = live.cli("release", job, token=other)
        assert refused.returncode != 0 and "held by an administrator" in " ".join(refused.stderr.split())
        live.cli("release", job, check=True)
        assert show(live, job)["reason"] == "BeginTime"
        live.cli("hold", job, token=other, check=True)  # his own hold: his to release
        assert show(live, job)["reason"] == "JobHeldUser"
        live.cli("release", job, token=other, check=True)
        cancel(live, job)
        mixed = live.cli("hold", f"99999999999999999999,{held}", "424242")  # each reported, none stops the rest
        said = " ".join(mixed.stderr.split())
        assert mixed.returncode == 1 and "no job 99999999999999999999" in said and "no job 424242" in said
        assert "no longer pending" in said and "Internal Server Error" not in said
        arr = submit(live, array="3-5", begin="now+3600")
        shown = live.cli("hold", arr, check=True).stdout  # it printed the tasks' internal ids
        assert f"held 3 job(s) of {arr}: {arr}_3, {arr}_4, {arr}_5" in " ".join(shown.split())
        assert f"{arr}_4" in live.cli("release", f"{arr}_4", check=True).stdout
        cancel(live, arr)
    finally:
        live.stop()


def test_held_array_tasks_take_no_slot_of_the_limit(tmp_path: Path) -> None:
    """`submit -H --array 0-5%2`, then release tasks 4 and 5: they run (they stayed JobArrayTaskLimit behind held
    tasks that filled the limit); holding a task that waits in the engine hands its slot to the next one; and
    cancelling a task still behind the limit never lets more than the limit run."""
    from hal.controller.auth import Identity
    from hal.controller.core import Controller
    from hal.controller.directives import build_request
    from hal.controller.machine import Machine
    from hal.controller.recovery import recover
    from hal.controller.store import Store, sqlite_url
    from hal.executors.local import LocalExecutor
    from tests.integration.livekit import EXAMPLE

    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"))
    recover(ctl)
    me = Identity("alice", admin=False)
    done = ctl.submit(build_request("#!/bin/sh\nsleep 2\n", {"array": "0-5%2", "hold": "1"}, {}, str(tmp_path), 0),
                      "alice")  # fmt: skip
    tasks = done.job_ids
    gate = ctl.gates[tasks[0]]
    assert gate.inflight == 0 and len(gate.waiting) == 6  # held: none takes a slot
    ctl.start()
    try:
        from hal.controller.holds import set_hold

        set_hold(ctl, f"{tasks[0]}_4", me, False)
        set_hold(ctl, f"{tasks[0]}_5", me, False)
        deadline = time.monotonic() + 30
        while any(ctl.store.get(t)["state"] != "COMPLETED" for t in tasks[4:]):  # type: ignore[index]
            assert time.monotonic() < deadline, [ctl.reason(t) for t in tasks[4:]]
            time.sleep(0.1)
        set_hold(ctl, str(tasks[0]), me, False)  # the rest
        ctl.cancel(f"{tasks[0]}_3", me)
        assert gate.inflight <= gate.limit
        deadline = time.monotonic() + 60
        while any(t in ctl.live for t in tasks):
            assert time.monotonic() < deadline
            assert gate.inflight <= 2 and sum(ctl.store.get(t)["state"] == "RUNNING" for t in tasks) <= 2  # type: ignore[index]
            time.sleep(0.05)
    finally:
        ctl.stop()
    states = [ctl.store.get(t)["state"] for t in tasks]  # type: ignore[index]
    assert states == ["COMPLETED"] * 3 + ["CANCELLED"] + ["COMPLETED"] * 2


def test_a_held_task_behind_a_limit_gets_no_forecast_and_delays_none(tmp_path: Path) -> None:
    """Forecasts model a %limit as lanes; a held task took a lane, so every task after it in that lane (and jobs
    behind) showed no forecast. It is now left out of the lanes, as it takes no slot."""
    from hal.controller.auth import Identity
    from hal.controller.core import Controller
    from hal.controller.directives import build_request
    from hal.controller.holds import set_hold
    from hal.controller.machine import Machine
    from hal.controller.recovery import recover
    from hal.controller.store import Store, sqlite_url
    from hal.executors.local import LocalExecutor
    from tests.integration.livekit import EXAMPLE

    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"))
    recover(ctl)
    opts = {"array": "0-3%1", "time": "10:00", "nodes": "4", "ntasks-per-node": "2"}
    tasks = ctl.submit(build_request("#!/bin/sh\nsleep 60\n", opts, {}, str(tmp_path), 0), "alice").job_ids
    set_hold(ctl, f"{tasks[0]}_2", Identity("alice", admin=False), True)
    ctl.start()
    try:
        deadline = time.monotonic() + 30
        while ctl.store.get(tasks[0])["state"] != "RUNNING":  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        rows = [ctl.store.get(t) or {} for t in tasks[1:]]
        assert ctl.annotate(rows)[0]["reason"] and ctl.board._cost == 0.0  # QA: a listing forecast every time
        starts = ctl.board.estimates(ctl)
        made = ctl.board._made
        assert ctl.board.estimates(ctl, set(tasks[1:])) is starts and ctl.board._made == made  # reused, not redone
        assert tasks[2] not in starts or starts[tasks[2]].finite()[0] is None  # held: no forecast
        assert starts[tasks[1]].finite()[0] is not None and starts[tasks[3]].finite()[0] is not None
        assert starts[tasks[3]].p50 > starts[tasks[1]].p50  # one lane: task 3 after task 1, task 2 skipped
    finally:
        ctl.cancel(str(tasks[0]), Identity("alice", admin=False))
        ctl.stop()

"""Pending jobs a restarted controller's cluster file no longer fits stay PENDING with Slurm's reason (parked), never
start, and are tried again when the job is updated or the server restarts on a cluster file that fits them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hal.api.server import ServerOptions, build
from hal.api.views import record
from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.parked import FITS_AGAIN, PARKED, hand_over, parked_advice
from hal.controller.update import update
from tests.clusters import cluster_toml

USER = Identity("alice", admin=False)
BIG = cluster_toml(name="big", nodes=4, cpus=2, mem="1G", features=["fast"], partitions=["batch", "debug"])
SMALL = cluster_toml(name="small", nodes=2, cpus=2, mem="1G", partitions=["batch"])


@contextmanager
def controller(tmp: Path, toml: str) -> Iterator[Any]:
    """A server's controller as `hal server` builds it on ``tmp``'s records (a restart: recovered, its data plane
    resumed or the jobs it cannot serve parked), loop not running: each test pass is one ``run_cycle``."""
    cluster = tmp / "cluster.toml"
    cluster.write_text(toml)
    ctl, _app, store, executor = build(ServerOptions(home=tmp / "home", executor="dev", cluster=cluster))
    try:
        yield ctl
    finally:
        for jid, lv in list(ctl.live.items()):
            if lv.state == "RUNNING":
                ctl.executor.cancel(jid, 0.0)
        if ctl.staging is not None:
            ctl.staging.shutdown()
        executor.shutdown()
        store.close()


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    req = build_request("#!/bin/sh\nsleep 30\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "alice").job_ids[0])


def row(ctl: Any, job: int) -> dict[str, Any]:
    return dict(ctl.annotate([ctl.store.get(job)])[0])


def test_jobs_the_smaller_cluster_cannot_run_stay_pending_with_the_reason(tmp_path: Path) -> None:
    with controller(tmp_path, BIG) as ctl:
        wide = submit(ctl, tmp_path, nodes="4", time="5")
        named = submit(ctl, tmp_path, nodelist="n003", time="5")
        debug = submit(ctl, tmp_path, partition="debug", time="5")
        fast = submit(ctl, tmp_path, constraint="fast", time="5")
        after = submit(ctl, tmp_path, dependency=f"afterok:{wide}", time="5")
        plain = submit(ctl, tmp_path, time="5")
    with controller(tmp_path, SMALL) as ctl:  # a restart on a cluster file that shrank
        ctl.run_cycle()
        ctl.run_cycle()
        assert ctl.live[plain].state == "RUNNING"
        for job in (wide, named, debug, fast, after):
            rec = ctl.store.get(job)
            assert rec is not None and rec["state"] == "PENDING" and ctl.live[job].state == "PENDING", rec
        assert ctl.reason(wide) == "PartitionNodeLimit"
        assert ctl.reason(named) == "ReqNodeNotAvail, UnavailableNodes:n003"
        assert ctl.reason(debug) == "PartitionDown"
        assert ctl.reason(fast) == "BadConstraints"
        assert ctl.reason(after) == "Dependency"  # waits for the parked job: not failed
        stored = str((ctl.store.get(wide) or {})["cause"])
        assert stored == PARKED + "needs 4 nodes, the partition has 2", stored  # hal show's Cause=, hal history
        shown = record(row(ctl, wide), ctl.clock())
        assert shown["reason"] == "PartitionNodeLimit"
        advice = parked_advice(shown) or ""
        assert "needs 4 nodes" in advice and f"hal update {wide} NumNodes=N" in advice, advice
        with pytest.raises(SubmitError, match="could never run on this cluster"):  # still too wide: refused
            update(ctl, str(wide), USER, {"NumNodes": "3"})
        update(ctl, str(wide), USER, {"NumNodes": "2", "NumTasks": "2"})  # fits now: into the engine
        assert wide not in ctl.parked and ctl.reason(after) == "Dependency"
        assert after in ctl.sched.known  # the engine holds it for its dependency now
        ctl.run_cycle()
        assert (ctl.store.get(wide) or {})["state"] in ("PENDING", "RUNNING")
        ctl.cancel(str(named), USER)
        assert (ctl.store.get(named) or {})["state"] == "CANCELLED" and named not in ctl.parked


def test_holds_and_a_later_restart_on_a_cluster_that_fits(tmp_path: Path) -> None:
    with controller(tmp_path, BIG) as ctl:
        debug = submit(ctl, tmp_path, partition="debug", time="5")
        wide = submit(ctl, tmp_path, nodes="4", time="5")
        after = submit(ctl, tmp_path, dependency=f"afterok:{wide}", time="5")
    with controller(tmp_path, SMALL) as ctl:
        ctl.run_cycle()
        set_hold(ctl, str(debug), USER, True)
        assert ctl.reason(debug) == "JobHeldUser"
        set_hold(ctl, str(debug), USER, False)
        ctl.run_cycle()
        assert ctl.reason(debug) == "PartitionDown"
        assert str((ctl.store.get(debug) or {})["cause"]).startswith(PARKED)  # a release keeps why it waits
        ctl.cancel(str(wide), USER)  # what waited for it is judged as for any cancelled job
        assert ctl.reason(after) == "DependencyNeverSatisfied"
    with controller(tmp_path, SMALL) as ctl:  # still too small: still parked, after another restart
        ctl.run_cycle()
        assert ctl.reason(debug) == "PartitionDown" and ctl.live[debug].state == "PENDING"
    with controller(tmp_path, BIG) as ctl:  # the administrator put the partition back
        ctl.run_cycle()
        assert debug not in ctl.parked and ctl.live[debug].state == "RUNNING"
        events = [e["cause"] for e in ctl.store.events_of(debug)]
        assert events.count(PARKED + "unknown partition 'debug'") == 1, events  # the 2nd restart found it as it was
        assert events[events.index(FITS_AGAIN) + 1].startswith("on n"), events


def test_an_array_whose_tasks_no_longer_fit_keeps_them_pending(tmp_path: Path) -> None:
    with controller(tmp_path, BIG) as ctl:
        first = submit(ctl, tmp_path, nodes="3", array="0-3%2", time="5")
    with controller(tmp_path, SMALL) as ctl:
        ctl.run_cycle()
        ctl.run_cycle()
        tasks = ctl.store.array_tasks(first)
        assert [str((ctl.store.get(t) or {})["state"]) for t in tasks] == ["PENDING"] * 4
        assert [ctl.reason(t) for t in tasks] == ["PartitionNodeLimit"] * 2 + ["JobArrayTaskLimit"] * 2
        update(ctl, str(first), USER, {"NumNodes": "2", "NumTasks": "2"})  # every task fits now
        ctl.run_cycle()
        assert ctl.live[tasks[0]].state == "RUNNING" and not ctl.parked.jobs


class Faulty:
    """A runtime predictor with a bug."""

    name = "faulty"

    def predict(self, job: Any) -> Any:
        raise RuntimeError("model file damaged")

    def observe(self, job: Any, runtime: float, end_time: float) -> None:
        return None


def test_other_engine_refusals_are_not_parked(tmp_path: Path) -> None:
    """A faulty predictor's job is planned on its time limit (it ended FAILED); a refusal that is no misfit (a job
    handed over twice) still fails the job on the next pass."""
    with controller(tmp_path, BIG) as ctl:
        ctl.sched.predictor = Faulty()
        job = submit(ctl, tmp_path, time="5")
        ctl.run_cycle()
        assert ctl.live[job].state == "RUNNING" and ctl.sched.running[job].item.estimate == 300.0
        twice = submit(ctl, tmp_path, time="5", hold="")
        hand_over(ctl, ctl.live[twice], ctl.clock())  # already in the engine
        ctl.run_cycle()
        rec = ctl.store.get(twice) or {}
        assert rec["state"] == "FAILED" and "already submitted" in rec["cause"] and not ctl.parked.jobs, rec


def test_the_advice_is_only_for_parked_jobs() -> None:
    rec = {"id": "7", "state": "PENDING", "reason": "PartitionDown", "cause": PARKED + "unknown partition 'gpu'"}
    assert "hal update 7 Partition=P" in (parked_advice(rec) or "")
    held = parked_advice({**rec, "reason": "JobHeldUser"}) or ""
    assert held.startswith("it is held (hal release 7), and it no longer fits"), held
    assert parked_advice({**rec, "reason": "Priority"}) is None  # fits again: its cause is rewritten next pass
    assert parked_advice({**rec, "cause": "submitted"}) is None
    assert parked_advice({**rec, "state": "CANCELLED"}) is None


def test_a_job_parked_for_its_topology_request_is_told_the_update_field_that_fixes_it() -> None:
    """QA: the advice said "hal update 60 with a request this cluster can run", and no field could change it."""
    cause = PARKED + "unknown topology level 'block4'; levels are ['switch', 'tier1']"
    rec = {"id": "60", "state": "PENDING", "reason": "BadConstraints", "cause": cause}
    assert "hal update 60 Topology=required=LEVEL" in (parked_advice(rec) or "")
    rec["cause"] = PARKED + "--segment=8: a segment must fit inside one block, and the largest holds 4 nodes"
    assert "hal update 60 Segment=N" in (parked_advice(rec) or "")

"""Pending jobs whose data a restarted server's data plane can never serve (no [data] table, or node caches made
smaller than an input) are parked: PENDING with the reason, held ones too, a release keeps them waiting, and a
restart whose data plane serves them takes them back (QA: they ended FAILED, or failed at their stage-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hal.api.views import record
from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.parked import FITS_AGAIN, PARKED, parked_advice
from hal.controller.update import update
from hal.data.fit import NO_DATA_PLANE, NO_PLANE_WHY, TOO_LARGE
from hal.data.outputs import abandon_data_jobs
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller

USER = Identity("alice", admin=False)
PLAIN = cluster_toml(name="c", nodes=2, cpus=2, mem="1G")


def with_data(tmp: Path, cache: str) -> str:
    return PLAIN + f'[data]\ncache_dir = "{tmp}/cache/{{node}}"\ncache_bytes = "{cache}"\ncatalog = "{tmp}/cat.json"\n'


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    req = build_request("#!/bin/sh\ntrue\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "alice").job_ids[0])


def advice(ctl: Any, job: int) -> str:
    return parked_advice(record(dict(ctl.annotate([ctl.store.get(job)])[0]), ctl.clock())) or ""


def test_queued_data_jobs_wait_for_a_data_plane_instead_of_failing(tmp_path: Path) -> None:
    with controller(tmp_path, with_data(tmp_path, "4M")) as ctl:
        (tmp_path / "small").write_text("small\n")
        ctl.staging.stager.catalog.register_file("small", str(tmp_path / "small"))
        reader = submit(ctl, tmp_path, hold="1", input_data="small")
        writer = submit(ctl, tmp_path, hold="1", output_data="res")
        after = submit(ctl, tmp_path, dependency=f"afterok:{writer}", input_data="res")
    with controller(tmp_path, PLAIN) as ctl:  # the same cluster file less its [data] table
        ctl.run_cycle()
        for job in (reader, writer):
            rec = ctl.store.get(job) or {}
            assert rec["state"] == "PENDING" and rec["cause"] == PARKED + NO_PLANE_WHY, rec
            assert ctl.reason(job) == "JobHeldUser" and ctl.parked.get(job).reason == NO_DATA_PLANE
        assert ctl.reason(after) == "Dependency"  # it waits for its writer, not failed
        assert abandon_data_jobs(ctl, "none") == {"parked": 2}  # what the server's log counts
        set_hold(ctl, str(reader), USER, False)  # was refused: "no longer pending (FAILED)"
        ctl.run_cycle()
        assert ctl.reason(reader) == NO_DATA_PLANE and ctl.live[reader].state == "PENDING"
        assert "restores the [data] table in the cluster file and restarts the server" in advice(ctl, reader)
        with pytest.raises(SubmitError, match="is parked and would stay so: it reads or"):
            update(ctl, str(reader), USER, {"TimeLimit": "5"})  # no update gives it a data plane
    with controller(tmp_path, with_data(tmp_path, "4M")) as ctl:  # the data plane is back: they are tried again
        ctl.run_cycle()
        assert not ctl.parked.jobs and ctl.live[reader].state == "RUNNING"  # staging its input
        assert ctl.reason(writer) == "JobHeldUser" and ctl.reason(after) == "Dependency"
        assert FITS_AGAIN in [e["cause"] for e in ctl.store.events_of(writer)]


def test_a_held_job_whose_input_no_node_cache_holds_any_more_stays_pending_when_released(tmp_path: Path) -> None:
    with controller(tmp_path, with_data(tmp_path, "4M")) as ctl:
        (tmp_path / "big").write_bytes(b"x" * 2_000_000)
        ctl.staging.stager.catalog.register_file("big", str(tmp_path / "big"))
        job = submit(ctl, tmp_path, hold="1", input_data="big")
    with controller(tmp_path, with_data(tmp_path, "1M")) as ctl:  # cache_bytes made smaller than the dataset
        ctl.run_cycle()
        set_hold(ctl, str(job), USER, False)
        ctl.run_cycle()
        ctl.run_cycle()
        assert ctl.live[job].state == "PENDING" and ctl.reason(job) == TOO_LARGE  # it started, then FAILED
        rec = ctl.store.get(job) or {}
        why = "dataset 'big' (2,000,000 bytes) is larger than every node cache (1,048,576 bytes)"
        assert rec["state"] == "PENDING" and rec["cause"] == PARKED + why, rec  # as a submission is refused
        assert "gives the node caches room for it (cache_bytes" in advice(ctl, job)

"""A restart whose catalog file is missing (moved away, or [data] catalog misspelt) keeps the node caches' copies and
says so loudly, and a pending job reading a dataset it no longer knows waits (UnknownDataset) until the dataset is
registered again or the catalog restored (QA: "dropped: 11" at INFO, a 4 GB cached copy deleted, and the released
job FAILED "stage-in failed: unknown dataset 'd4'"). A catalog file that cannot be read stops the start, deleting
nothing; one read fine keeps the copies it does not know, unmatched (test_restored_catalog.py: those it does)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hal.controller.auth import Identity
from hal.controller.holds import set_hold
from hal.controller.parked import FITS_AGAIN, PARKED, recheck_unknown
from hal.data.catalog import CatalogError
from hal.data.fit import UNKNOWN
from tests.unit.controller.test_parked import controller
from tests.unit.data.test_data_fit import advice, submit, with_data

USER = Identity("alice", admin=False)


def _until(check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _cached(ctl: Any, tmp: Path, name: str, data: bytes) -> Path:
    """``name`` registered and staged into the first node's cache, as a job that ran would have left it."""
    (tmp / name).write_bytes(data)
    stager = ctl.staging.stager
    stager.catalog.register_file(name, str(tmp / name))
    node = ctl.table.names[0]
    stager.stage_in(999, [name], [node])
    stager.release(999)
    return stager.caches[node].path_of(name)


def test_a_missing_catalog_keeps_the_cached_copies_and_parks_their_readers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        copy = _cached(ctl, tmp_path, "d4", b"d4" * 1000)
        job = submit(ctl, tmp_path, hold="1", input_data="d4")
    catalog.rename(tmp_path / "cat.json.bak")
    caplog.set_level(logging.INFO, "hal")
    with controller(tmp_path, toml) as ctl:
        said = [r for r in caplog.records if r.levelno == logging.WARNING and str(catalog) in r.getMessage()]
        assert said and "does not exist" in said[0].getMessage(), caplog.text  # was "dropped: 1" at INFO
        assert "the node caches hold d4" in said[0].getMessage() and f"jobs read datasets: {job}" in caplog.text
        assert copy.read_bytes() == b"d4" * 1000  # kept (it was deleted)
        set_hold(ctl, str(job), USER, False)  # `hal release`: it FAILED at its stage-in
        ctl.run_cycle()
        ctl.run_cycle()
        assert ctl.live[job].state == "PENDING" and ctl.reason(job) == UNKNOWN
        rec = ctl.store.get(job) or {}
        why = "its input 'd4' is not in the catalog, and no queued or running job writes it"
        assert rec["state"] == "PENDING" and rec["cause"] == PARKED + why, rec
        assert "registers it again (hal dataset add" in advice(ctl, job)
        with ctl.lock:  # `hal dataset add d4` again: the job is tried again on the next pass
            ctl.staging.stager.catalog.register_file("d4", str(tmp_path / "d4"))
        ctl.run_cycle()
        assert job not in ctl.parked.jobs and ctl.live[job].state == "RUNNING"
        assert FITS_AGAIN in [e["cause"] for e in ctl.store.events_of(job)]
        node = ctl.table.names[0]  # the kept copy, checked against the dataset, is its node's replica again
        _until(lambda: node in ctl.staging.stager.catalog.replicas.get("d4", {}))
        assert copy.read_bytes() == b"d4" * 1000


def test_a_restored_catalog_finds_the_kept_copies_and_keeps_strays_unmatched(tmp_path: Path) -> None:
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        copy = _cached(ctl, tmp_path, "d4", b"x" * 5000)
        job = submit(ctl, tmp_path, hold="1", input_data="d4")
        node = ctl.table.names[0]
        stray = copy.parent / "stray"  # a copy no catalog entry names
    catalog.rename(tmp_path / "cat.json.bak")
    stray.write_bytes(b"s")
    with controller(tmp_path, toml) as ctl:
        assert ctl.parked.get(job) is not None and ctl.parked.jobs[job].reason == UNKNOWN
        assert copy.exists() and stray.exists()
    (tmp_path / "cat.json.bak").rename(catalog)  # the catalog back
    with controller(tmp_path, toml) as ctl:
        assert copy.exists() and ctl.staging.stager.caches[node].has("d4")  # its replica found again
        assert stray.exists() and "stray" in ctl.staging.stager.caches[node].unverified  # kept, never served
        set_hold(ctl, str(job), USER, False)
        ctl.run_cycle()
        assert not ctl.parked.jobs and ctl.live[job].state == "RUNNING"


def test_a_catalog_that_cannot_be_read_stops_the_start_and_deletes_nothing(tmp_path: Path) -> None:
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        copy = _cached(ctl, tmp_path, "d4", b"y" * 100)
        job = submit(ctl, tmp_path, input_data="d4", hold="1")
    good = catalog.read_bytes()
    said = f"catalog {re.escape(str(catalog))} is not a HAL catalog.*nothing in the node caches was deleted"
    for bad in ("{not json", ""):
        catalog.write_text(bad)
        with pytest.raises(CatalogError, match=said):
            _start(tmp_path, toml)
        assert copy.read_bytes() == b"y" * 100
    catalog.unlink()
    catalog.mkdir()  # unreadable: a folder in its place
    with pytest.raises(CatalogError, match=said):
        _start(tmp_path, toml)
    assert copy.read_bytes() == b"y" * 100
    catalog.rmdir()
    catalog.write_bytes(good)  # the file restored: the job and the copy are as they were
    with controller(tmp_path, toml) as ctl:
        assert job not in ctl.parked.jobs and ctl.staging.stager.caches[ctl.table.names[0]].has("d4")


def _start(tmp: Path, toml: str) -> None:
    with controller(tmp, toml):
        pass


def test_a_reader_whose_writer_never_published_keeps_its_dependency_reason(tmp_path: Path) -> None:
    """Only an input no job may still write is unknown: a reader waiting for its writer is not parked, and one whose
    writer ended without publishing keeps DependencyNeverSatisfied across a restart."""
    toml = with_data(tmp_path, "4M")
    with controller(tmp_path, toml) as ctl:
        writer = submit(ctl, tmp_path, hold="1", output_data="res")
        reader = submit(ctl, tmp_path, dependency=f"afterok:{writer}", input_data="res")
        waiting = submit(ctl, tmp_path, dependency=f"afterok:{writer}", input_data="res")
    with controller(tmp_path, toml) as ctl:
        ctl.run_cycle()
        assert not ctl.parked.jobs and ctl.reason(reader) == "Dependency"
        ctl.cancel(str(writer), Identity("alice", admin=True))
    with controller(tmp_path, toml) as ctl:
        ctl.run_cycle()
        assert not ctl.parked.jobs and ctl.reason(waiting) == "DependencyNeverSatisfied"


def test_every_unknown_input_is_named_and_the_cause_follows_the_catalog(tmp_path: Path) -> None:
    """QA: a job reading dx and dy, both unknown, was told only of dx, and still of dx once dx was registered."""
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        for name in ("dx", "dy"):
            _cached(ctl, tmp_path, name, name.encode() * 100)
        job = submit(ctl, tmp_path, hold="1", input_data="dx,dy")
    catalog.rename(tmp_path / "cat.json.bak")
    with controller(tmp_path, toml) as ctl:
        set_hold(ctl, str(job), USER, False)
        ctl.run_cycle()
        ctl.run_cycle()
        both = "its inputs 'dx', 'dy' are not in the catalog, and no queued or running job writes them"
        assert (ctl.store.get(job) or {})["cause"] == PARKED + both
        assert "registers them again (hal dataset add" in advice(ctl, job)
        with ctl.lock:
            ctl.staging.stager.catalog.register_file("dx", str(tmp_path / "dx"))
        ctl.run_cycle()
        one = "its input 'dy' is not in the catalog, and no queued or running job writes it"
        assert ctl.reason(job) == UNKNOWN and (ctl.store.get(job) or {})["cause"] == PARKED + one
        assert ctl.parked.jobs[job].why == one and "registers it again" in advice(ctl, job)
        with ctl.lock:
            ctl.staging.stager.catalog.register_file("dy", str(tmp_path / "dy"))
        ctl.run_cycle()
        assert job not in ctl.parked.jobs and ctl.live[job].state == "RUNNING"


def test_restoring_the_old_catalog_keeps_what_was_registered_meanwhile_in_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: the missing-catalog warning said to restore the file and restart; doing so after a job had registered its
    output 'res' lost 'res' from the catalog and deleted its cached copy, said only as 'dropped': 1 at INFO."""
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        _cached(ctl, tmp_path, "d4", b"4" * 1000)
    catalog.rename(tmp_path / "cat.json.bak")
    caplog.set_level(logging.WARNING, "hal")
    with controller(tmp_path, toml) as ctl:
        node = ctl.table.names[0]
        res = _cached(ctl, tmp_path, "res", b"r" * 2000)  # as a job's output is registered
        anew = [r.getMessage() for r in caplog.records if "is written anew" in r.getMessage()]
        assert anew and f"res (at {tmp_path / 'res'})" in anew[0] and "hal dataset add" in anew[0], caplog.text
    (tmp_path / "cat.json.bak").replace(catalog)  # the advice followed: the old file back, and a restart
    caplog.clear()
    with controller(tmp_path, toml) as ctl:
        cache = ctl.staging.stager.caches[node]
        assert res.read_bytes() == b"r" * 2000 and cache.entries.get("res") == 2000  # kept and counted
        said = [r.getMessage() for r in caplog.records if "does not name" in r.getMessage()]
        assert said and f"the cached copies res on {node}" in said[0], caplog.text
        assert "res" not in ctl.staging.stager.catalog.datasets and "res" in cache.unverified
        with ctl.lock:  # `hal dataset add res`: the kept copy, checked against it, is read without a copy
            ctl.staging.stager.catalog.register_file("res", str(tmp_path / "res"))
        assert ctl.staging.stager.stage_in(5, ["res"], [node])[0].hit
        assert node in ctl.staging.stager.catalog.replicas["res"]
        ctl.staging.stager.release(5)


def test_a_pass_gathers_the_live_jobs_declared_outputs_once_for_all_parked_jobs(tmp_path: Path) -> None:
    """Each parked job's look walked every live job's outputs, each pass, under the controller's lock."""
    toml, catalog = with_data(tmp_path, "4M"), tmp_path / "cat.json"
    with controller(tmp_path, toml) as ctl:
        _cached(ctl, tmp_path, "dz", b"z" * 100)
        jobs = [submit(ctl, tmp_path, hold="1", input_data="dz") for _ in range(3)]
    catalog.rename(tmp_path / "cat.json.bak")
    with controller(tmp_path, toml) as ctl:
        for job in jobs:
            set_hold(ctl, str(job), USER, False)
        ctl.run_cycle()
        assert all(ctl.reason(job) == UNKNOWN for job in jobs)
        walks: list[int] = []

        class Counted(dict):  # type: ignore[type-arg]
            def values(self):  # type: ignore[no-untyped-def]
                walks.append(1)
                return super().values()

        live = ctl.live
        with ctl.lock:
            ctl.live = Counted(live)
            try:
                assert recheck_unknown(ctl, ctl.clock()) == 0
            finally:
                ctl.live = live
        assert len(walks) == 1
        with ctl.lock:
            ctl.staging.stager.catalog.register_file("dz", str(tmp_path / "dz"))
            assert recheck_unknown(ctl, ctl.clock()) == 3

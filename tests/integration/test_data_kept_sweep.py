"""A failed stage-out's file is removed while the server runs once ``[data] keep_failed_outputs`` has passed (it
was removed only by the next start: a server up for weeks kept every one, outside the cache's limit)."""

from __future__ import annotations

import threading
from pathlib import Path

from hal.controller.directives import build_request
from hal.data import cache_roots
from hal.data.kept_sweep import sweep_kept
from hal.data.outputs import states_from_events
from tests.integration.test_data_stage_out import _controller, _until


def _state(ctl: object, job: int) -> str:
    row = ctl.store.get(job)  # type: ignore[attr-defined]
    return str(row["state"]) if row else ""


def test_a_failed_output_is_removed_by_the_running_server_after_its_keep_window(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cache_roots, "CHECK_EVERY", 0.05)
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    (tmp_path / "taken" / "r").mkdir(parents=True)  # a folder where the output would go: its stage-out fails
    staging.outputs.dest = f"{tmp_path}/taken/{{name}}"
    staging.stager.keep_failed_outputs = 3600.0
    staging.resume(ctl, since=0.0)  # as the server does: the sweep waits for it
    ctl.start()
    try:
        script = '#!/bin/sh\necho x > "$HAL_DATA/r"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "r"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _state(ctl, job) in ("FAILED", "COMPLETED"), timeout=20)
        assert _state(ctl, job) == "FAILED"
        (kept,) = (tmp_path / "cache").glob(f"*/.jobs/{job}/r")
        sweep_kept(staging, ctl)  # young: kept, when it is due remembered
        assert kept.exists()
        guard, store_get, me, reads = staging.stager.guard, ctl.store.get, threading.get_ident(), []

        def noted(what: object) -> None:  # this thread's only: the controller's and the watcher's run on
            if threading.get_ident() == me:
                reads.append(what)

        staging.stager.guard = lambda: noted("lock") or guard()  # type: ignore[method-assign]
        ctl.store.get = lambda job_id: noted(job_id) or store_get(job_id)  # type: ignore[method-assign]
        swept = sweep_kept(staging, ctl)
        staging.stager.guard, ctl.store.get = guard, store_get  # type: ignore[method-assign]
        assert reads == [], "a folder not due yet took the controller's lock or read the records"
        assert swept == 0 and kept.exists()
        staging.stager.keep_failed_outputs = 0.001
        # the cache folder watcher's next pass: the file goes, then its folder (wait for both, not the first)
        _until(lambda: not kept.parent.exists(), timeout=10)
        assert not kept.exists() and not kept.parent.exists()
        assert states_from_events(ctl.store.events_of(job))["r"].endswith("(removed after keep_failed_outputs)")
    finally:
        ctl.stop()
        staging.shutdown()


def test_folders_of_jobs_not_over_are_left_alone(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    staging.resumed.set()
    staging.stager.keep_failed_outputs = 0.001
    node = ctl.table.names[0]
    script = "#!/bin/sh\nsleep 30\n"
    (job,) = ctl.submit(build_request(script, {"output-data": "r"}, {}, str(tmp_path), 0), "al").job_ids
    folder = staging.stager.open_job_dir(job, node, ())  # its job is pending: a requeue's folder, say
    (folder / "r").write_text("being written")
    (stray := staging.stager.open_job_dir(99, node, ()))  # no record names it: the next start's business
    assert sweep_kept(staging, ctl) == 0
    assert (folder / "r").exists() and stray.exists()
    staging.stager.keep_failed_outputs = 0  # 0 keeps failed outputs for good: nothing is looked at
    assert sweep_kept(staging, ctl) == 0
    staging.shutdown()

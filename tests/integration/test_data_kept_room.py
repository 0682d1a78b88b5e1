"""Failed outputs kept in a node cache's job folders count against its cache_bytes (``hal.data.kept_room``). QA:
``hal nodes --long`` showed 60M of 80M used while the disk held 20M more in ``.jobs/31`` (a cancelled stage-out),
and kept outputs filled a small disk until a stage-in hit ENOSPC and drained the node."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hal.api.views import cache_view
from hal.controller.directives import build_request
from hal.data.catalog import Dataset
from hal.data.kept_sweep import sweep_kept
from tests.integration.test_data_stage_out import _controller, _until

MB = 1 << 20


def _state(ctl: object, job: int) -> str:
    row = ctl.store.get(job)  # type: ignore[attr-defined]
    return str(row["state"]) if row else ""


def _failing_output(tmp_path: Path) -> tuple[Any, Any, int]:
    """A started controller and a job whose 1 MB output cannot be staged out (a folder stands where it goes), ended."""
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    (tmp_path / "taken" / "r").mkdir(parents=True)  # a folder where the output would go: its stage-out fails
    staging.outputs.dest = f"{tmp_path}/taken/{{name}}"
    staging.resume(ctl, since=0.0)
    ctl.start()
    script = '#!/bin/sh\nhead -c 1048576 /dev/urandom > "$HAL_DATA/r"\n'
    (job,) = ctl.submit(build_request(script, {"output-data": "r"}, {}, str(tmp_path), 0), "al").job_ids
    _until(lambda: _state(ctl, job) in ("FAILED", "COMPLETED"), timeout=20)
    return ctl, staging, job


def test_a_failed_output_kept_in_its_job_folder_counts_in_the_cache(tmp_path: Path) -> None:
    ctl, staging, job = _failing_output(tmp_path)
    try:
        assert _state(ctl, job) == "FAILED"
        (kept,) = (tmp_path / "cache").glob(f"*/.jobs/{job}/r")
        node = kept.parent.parent.parent.name
        cache = staging.stager.caches[node]
        assert cache.used() == MB  # at once, as the job ends
        view = cache_view(ctl, node)  # what `hal nodes --long` shows
        assert (view["cache_bytes"], view["cache_held"], view["cache_size"]) == (MB, MB, 4 * MB)
        assert cache.free_room() == 3 * MB  # staging has that much less room
        kept.unlink()  # its user took it: the room comes back at the watcher's next pass
        sweep_kept(staging, ctl)
        assert cache.used() == 0 and cache.free_room() == 4 * MB
    finally:
        ctl.stop()
        staging.shutdown()


def test_a_folder_nothing_counted_is_counted_by_the_sweep_and_datasets_evicted_for_it(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)  # cache_bytes = 4M
    stager, node = staging.stager, ctl.table.names[0]
    cache = stager.caches[node]
    for name in ("a", "b"):  # 1.5M each, a the least recently used
        src = tmp_path / "store" / name
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(bytes([ord(name)]) * (3 * MB // 2))
        digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
        stager.catalog.register(Dataset(name, 3 * MB // 2, digest, str(src)))
        stager.stage_in(1, (name,), [node])
    stager.release(1)
    assert cache.used() == 3 * MB
    # What a stage-out cancelled mid-way leaves: the job's inputs (links to cached copies) and its output.
    folder = stager.open_job_dir(77, node, ("b",))
    (folder / "cout").write_bytes(b"c" * (3 * MB // 2))
    staging.resumed.set()
    sweep_kept(staging, ctl)
    assert cache.used() == 3 * MB  # b's link is b's cached copy, counted once; a evicted for the output
    assert "a" not in cache.entries and not cache.path_of("a").exists() and "b" in cache.entries
    assert node not in stager.catalog.replicas.get("a", {})
    assert cache_view(ctl, node)["cache_bytes"] == 3 * MB
    sweep_kept(staging, ctl)  # nothing changed: nothing more evicted
    assert "b" in cache.entries and cache.used() == 3 * MB
    (folder / "cout").unlink()
    (folder / "b").unlink()
    folder.rmdir()
    sweep_kept(staging, ctl)
    assert cache.used() == 3 * MB // 2
    staging.shutdown()


def test_a_restart_counts_kept_folders_at_once(tmp_path: Path) -> None:
    """A failed output kept from before a restart takes its room as the data plane resumes: it was counted only by
    the sweep's next pass, up to 30 s later, and a stage-in meanwhile could over-fill the cache (QA)."""
    ctl, staging, job = _failing_output(tmp_path)
    ctl.stop()
    staging.shutdown()
    assert _state(ctl, job) == "FAILED"
    (kept,) = (tmp_path / "cache").glob(f"*/.jobs/{job}/r")
    node = kept.parent.parent.parent.name
    again, restarted = _controller(tmp_path)  # the same records and caches: a restart
    try:
        restarted.resume(again, since=0.0)
        cache = restarted.stager.caches[node]
        assert cache.reserved.get(f".jobs/{job}") == MB and cache.used() == MB, cache.reserved
    finally:
        restarted.shutdown()

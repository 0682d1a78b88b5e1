"""A job whose folder input every node already caches is launched by the controller thread at once: each
cached tree is looked at (walked, an lstat per file, under the controller's lock) once per node at launch,
not five times, and still checked before the job reads it; twice more at the job's end (QA: what a job wrote
through its links, mtime put back, must be found; job_links.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import hal.data.cache
from hal.controller.directives import build_request
from tests.integration.test_data_live import _wait, data_controller

SCRIPT = '#!/bin/sh\nfind "$HAL_DATA/shards" -type f | wc -l > "{out}"\n'


def test_a_cached_tree_is_walked_once_per_node_at_launch_and_twice_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, staging = data_controller(tmp_path, {"cache_bytes": "1M", "catalog": str(tmp_path / "catalog.json")})
    stager, names = staging.stager, ctl.table.names
    shards = tmp_path / "store" / "shards"
    (shards / "part").mkdir(parents=True)
    for i in range(20):
        (shards / ("part" if i % 2 else "") / f"shard-{i}.bin").write_bytes(bytes([65 + i]) * 100)
    stager.catalog.register_file("shards", str(shards))
    stager.stage_in(0, ("shards",), list(names))
    stager.release(0)
    walked: list[str] = []
    real = hal.data.cache.stamp_of
    monkeypatch.setattr(hal.data.cache, "stamp_of", lambda path: walked.append(path.parent.name) or real(path))
    ctl.start()
    try:
        out = tmp_path / "seen"
        job = ctl.submit(build_request(SCRIPT.format(out=out), {"input-data": "shards"}, {}, str(tmp_path), 0), "al")
        _wait(ctl, job.job_ids)
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ctl.stop()
    (row,) = [r for r in ctl.store.query() if r["id"] == job.job_ids[0]]
    assert row["state"] == "COMPLETED" and out.read_text().strip() == "20"
    # one look that finds a changed tree before the job reads it; at its end one that finds what it wrote through
    # its links before they go, and one that stamps the tree after (the launch's links stamp it as they are made)
    assert walked == [row["nodelist"]] * 3

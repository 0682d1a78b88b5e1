"""`hal cancel` of the job whose thread runs a stage-in copy another job waits for (QA): the copy goes on and the
other job runs on it, the source read once; it was thrown away and copied again from byte 0."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.data.catalog import Dataset
from tests.integration.test_data_stage_out import _controller, _over, _until
from tests.unit.data.test_shared_stage_in import CHUNK, SIZE, ThrottledFS

ALICE = Identity("alice", admin=False)


def test_cancelling_the_job_that_started_a_shared_copy_leaves_it_to_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hal.data.stager.CHUNK", CHUNK)
    ctl, staging = _controller(tmp_path)
    src = tmp_path / f"slow30-{tmp_path.name}"
    src.write_bytes(bytes(range(256)) * (SIZE // 256) + b"z" * (SIZE % 256))
    digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    staging.stager.catalog.register(Dataset("slow30", SIZE, digest, f"halthrottled://{src}"))
    ThrottledFS.sent[src.name] = 0
    node = ctl.table.names[0]
    script = '#!/bin/sh\nsha256sum "$HAL_DATA/slow30" > "{out}"\n'
    ctl.start()
    try:
        opts = {"input-data": "slow30", "nodelist": node}
        (a,) = ctl.submit(build_request(script.format(out=tmp_path / "a"), opts, {}, str(tmp_path), 0), "alice").job_ids
        _until(lambda: ThrottledFS.sent[src.name] >= 5 * CHUNK)
        (b,) = ctl.submit(build_request(script.format(out=tmp_path / "b"), opts, {}, str(tmp_path), 0), "alice").job_ids
        flights = staging.stager._flights._flights  # b waits for a's copy: b is in its flight (a sleep guessed)
        _until(lambda: b in getattr(flights.get((node, "slow30")), "jobs", ()))
        assert b in getattr(flights.get((node, "slow30")), "jobs", ()), "b never joined a's copy"
        assert ThrottledFS.sent[src.name] < SIZE / 2, "the copy ended before the cancel: nothing tested"
        ctl.cancel(str(a), ALICE)
        _until(_over(ctl, b))
    finally:
        ctl.stop()
    assert (ctl.store.get(a) or {}).get("state") == "CANCELLED"
    row = ctl.store.get(b) or {}
    assert row.get("state") == "COMPLETED", row
    assert (tmp_path / "b").read_text().split()[0] == digest.removeprefix("sha256:")
    assert ThrottledFS.sent[src.name] == SIZE  # read once, never from byte 0 again
    assert not [p for p in (tmp_path / "cache").rglob("*") if ".partial" in p.name]

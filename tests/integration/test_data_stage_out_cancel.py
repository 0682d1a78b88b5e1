"""`hal cancel` of a job in STAGE_OUT (QA: "job N has already finished", and nothing stopped a long or stuck
stage-out, its dependants waiting on it): the copy stops, nothing is published, the job ends CANCELLED."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hal.data.stager
from hal.api.views import summary_view
from hal.controller.auth import Identity
from hal.controller.contracts import Forbidden
from hal.controller.directives import build_request
from hal.data.outputs import states_from_events
from hal.executors.hostlist import expand
from tests.integration.test_data_stage_out import _controller, _over, _until
from tests.integration.test_data_stage_out_guards import FrozenFS

WRITE = '#!/bin/sh\nhead -c 200000 /dev/urandom > "$HAL_DATA/{name}"\n'


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def test_cancel_in_stage_out_stops_the_copy_and_publishes_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(hal.data.stager, "CHUNK", 4096)  # many chunks: the copy stops between two of them
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    FrozenFS.thawed.clear()  # the destination takes nothing: a stuck stage-out
    staging.outputs.dest = f"halfrozen://{tmp_path}/out/{{job}}/{{name}}"
    ctl.start()
    try:
        (writer,) = ctl.submit(build_request(WRITE.format(name="soc"), {"output-data": "soc"}, {}, str(tmp_path), 0),
                               "alice").job_ids  # fmt: skip
        after = [build_request("#!/bin/sh\ntrue\n", {"dependency": f"{k}:{writer}"}, {}, str(tmp_path), 0)
                 for k in ("afterok", "afterany")]  # fmt: skip
        ok, anyway = (ctl.submit(req, "alice").job_ids[0] for req in after)
        _until(lambda: _job(ctl, writer).get("state") == "STAGE_OUT" and list((tmp_path / "out").rglob("*partial*")))
        said = summary_view(ctl)  # hal queue's summary line counts it and its user (QA: both were left out)
        assert said["staging_out"] == 1 and said["users"] == 1, said
        with pytest.raises(Forbidden):
            ctl.cancel(str(writer), Identity("bob", admin=False))
        assert ctl.cancel(str(writer), Identity("alice", admin=False)) == [writer]  # the CLI then says nothing
        row = _job(ctl, writer)  # in the records at once, while the write still hangs
        assert row["state"] == "CANCELLED" and row["cause"] == "cancelled by alice during stage-out"
        _until(_over(ctl, anyway))
        assert _job(ctl, anyway).get("state") == "COMPLETED"  # afterany runs
        assert ctl.reason(ok) == "DependencyNeverSatisfied"  # afterok never will
        FrozenFS.thawed.set()  # the hung write returns: the copy stops at its next chunk, removing its partial file
        assert staging.outputs.wait(30.0)
        _until(lambda: not [p for p in (tmp_path / "out").rglob("*") if p.is_file()])
    finally:
        FrozenFS.thawed.set()
        ctl.stop()
        staging.shutdown()
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # nothing partial left at the destination
    assert "soc" not in staging.stager.catalog.datasets  # nothing registered
    node = expand(row["nodelist"])[0]
    kept = staging.stager.job_dir(node, writer) / "soc"
    assert kept.stat().st_size == 200000  # kept as a failed stage-out's file is
    told = states_from_events(ctl.store.events_of(writer))
    assert told == {"soc": f"failed: cancelled by alice during stage-out (kept at {kept})"}
    ends = [e["state"] for e in ctl.store.events_of(writer) if e["state"] in ("COMPLETED", "FAILED", "CANCELLED")]
    assert ends == ["CANCELLED"]
    # A restart: the cancel is in the records, so the output is not staged out then either, and its file stays.
    again, resumed = _controller(tmp_path)
    resumed.resume(again, since=0.0)
    assert resumed.outputs is not None and resumed.outputs.wait(30.0)
    resumed.shutdown()
    assert _job(again, writer)["state"] == "CANCELLED" and "soc" not in resumed.stager.catalog.datasets
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()] and kept.is_file()


def test_a_cancel_as_the_last_bytes_land_removes_them(tmp_path: Path) -> None:
    """The copy finished as the cancel came: what reached the destination goes again, nothing is registered."""
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "late").write_bytes(b"x" * 5000)
    staging.outputs.cancelled[7] = "alice"  # as cancel_stage_out leaves it, taken before the copy registers
    uri = f"{tmp_path}/out/7/late"
    with ctl.lock:
        staging.outputs.after_end(ctl, 7, ("late",), node, "COMPLETED")  # refused: its stage-out was cancelled
    assert staging.outputs.state_of(7) == {}
    staging.outputs.cancelled.clear()
    real = staging.stager.copy_out

    def landed(*args: Any, **kwargs: Any) -> tuple[str, int]:
        got = real(*args, **kwargs)
        staging.outputs.cancelled[7] = "alice"  # type: ignore[union-attr]  # the cancel, just after the rename
        return got

    staging.stager.copy_out = landed  # type: ignore[method-assign]
    staging.outputs._copy(ctl, 7, "late", node, uri)
    staging.outputs.shutdown()
    assert not Path(uri).exists() and "late" not in staging.stager.catalog.datasets

"""`hal requeue` of a job whose stage-out was cancelled or failed: its new attempt's outputs are staged out (QA: what
the earlier attempt's stage-out left in memory kept them from it, and the job sat in STAGE_OUT for good)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import hal.data.stager
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.requeue import requeue
from hal.data.outputs import states_from_events
from tests.integration.test_data_stage_out import _controller, _until
from tests.integration.test_data_stage_out_guards import FrozenFS

WRITE = '#!/bin/sh\nhead -c 200000 /dev/urandom > "$HAL_DATA/{name}"\n'
ALICE = Identity("alice", admin=False)


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def _no_partial(out: Path) -> bool:
    return not list(out.rglob("*partial*"))


@pytest.mark.parametrize("how", ["cancelled", "failed"])
def test_a_requeued_job_stages_its_new_outputs_out(tmp_path: Path, monkeypatch: Any, how: str) -> None:
    monkeypatch.setattr(hal.data.stager, "CHUNK", 4096)  # many chunks: a cancel stops the copy between two
    FrozenFS.thawed = threading.Event()  # the destination takes nothing: a stuck stage-out
    ctl, staging = _controller(tmp_path)
    outputs = staging.outputs
    assert outputs is not None
    outputs.dest = f"halfrozen://{tmp_path}/out/{{job}}/{{name}}"
    if how == "failed":
        staging.stager.stall_timeout = 1.0  # the stuck copy fails the output, and the job FAILED
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(WRITE.format(name="rq"), {"output-data": "rq"}, {}, str(tmp_path), 0),
                            "alice").job_ids  # fmt: skip
        if how == "cancelled":
            _until(lambda: _job(ctl, job).get("state") == "STAGE_OUT" and not _no_partial(tmp_path / "out"))
            assert ctl.cancel(str(job), ALICE) == [job]
        _until(lambda: _job(ctl, job).get("state") in ("CANCELLED", "FAILED"))
        assert _job(ctl, job)["state"] == how.upper()
        FrozenFS.thawed.set()  # the hung write returns: the earlier copy stops, removing its partial file
        assert outputs.wait(30.0)
        _until(lambda: _no_partial(tmp_path / "out"))
        assert requeue(ctl, str(job), ALICE) == [job]
        _until(lambda: _job(ctl, job).get("state") in ("COMPLETED", "FAILED", "CANCELLED"))
        assert outputs.wait(30.0)
        row = _job(ctl, job)
    finally:
        FrozenFS.thawed.set()
        ctl.stop()
        staging.shutdown()
    assert row["state"] == "COMPLETED" and row["restarts"] == 1, row
    assert outputs.state_of(job) == {"rq": "done"}
    dataset = staging.stager.catalog.get("rq")  # published: in the catalog, at the destination
    assert dataset.size == 200000 and (tmp_path / "out" / str(job) / "rq").stat().st_size == 200000
    assert states_from_events(ctl.store.events_of(job))["rq"].startswith("done (200000 bytes")  # this attempt's


def test_a_copy_of_the_earlier_attempt_settles_nothing(tmp_path: Path) -> None:
    """A copy still stopping when the job is requeued: it publishes nothing, and settles none of the new attempt's
    outputs (its token is retired by ``forget``)."""
    ctl, staging = _controller(tmp_path)
    outputs = staging.outputs
    assert outputs is not None
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "late").write_bytes(b"x" * 5000)
    uri = f"{tmp_path}/out/7/late"
    real = staging.stager.copy_out

    def requeued(*args: Any, **kwargs: Any) -> tuple[str, int]:
        got = real(*args, **kwargs)
        with ctl.lock:
            outputs.forget(7)  # the requeue, as its last bytes landed
            outputs.states[7] = {"late": "staging"}  # the new attempt's stage-out
            outputs._attempts[7] = object()
        return got

    staging.stager.copy_out = requeued  # type: ignore[method-assign]
    outputs.states[7] = {"late": "staging"}
    outputs._attempts[7] = token = object()
    outputs._copy(ctl, 7, "late", node, uri, token)
    outputs.shutdown()
    assert not Path(uri).exists() and "late" not in staging.stager.catalog.datasets
    assert outputs.state_of(7) == {"late": "staging"} and 7 not in outputs.concluded


def test_an_earlier_attempts_stage_out_events_are_not_this_ones() -> None:
    """A restart's catch-up and a cancel read the outputs' states from the events: the earlier attempt's failure
    concluded a requeued attempt FAILED, or left its cancel with nothing open."""
    events = [
        {"state": "STAGE_OUT", "cause": "rq: failed: cancelled by alice during stage-out"},
        {"state": "REQUEUED", "cause": "requeued by alice after it ended CANCELLED"},
        {"state": "STAGE_OUT", "cause": "other: done (3 bytes to x)"},
    ]
    assert states_from_events(events) == {"other": "done (3 bytes to x)"}


def test_a_cancel_while_staging_after_a_requeue_leaves_no_requeue_behind(tmp_path: Path) -> None:
    """`hal requeue` then `hal cancel` of a CONFIGURING job: it ends CANCELLED, and no requeue is left pending."""
    from types import SimpleNamespace

    from hal.data.live import LiveStaging

    staging = LiveStaging.__new__(LiveStaging)
    staging.staging = {5: "staging"}
    staging.stager = SimpleNamespace(release=lambda job: None)
    closed: list[str] = []
    ctl = SimpleNamespace(
        cancelling={5},
        requeueing={5: "alice"},
        machine=SimpleNamespace(release=lambda job: None),
        sched=SimpleNamespace(finish=lambda *a, **k: None),
        _close=lambda conn, lv, now, state, values: closed.append(state),
    )
    assert staging.cancel_staged(ctl, None, SimpleNamespace(job_id=5), 1.0, "alice")
    assert closed == ["CANCELLED"] and ctl.requeueing == {}

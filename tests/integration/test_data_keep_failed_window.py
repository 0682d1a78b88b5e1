"""``[data] keep_failed_outputs`` counts from when the owner was first told where a failed output is kept, not from
the job's end (QA: the output a server without a data plane left was deleted by the first start with a data plane
that found it, over a week after the job ended, with no "kept at" ever recorded)."""

from __future__ import annotations

from pathlib import Path

from hal.controller.directives import build_request
from hal.data.outputs import NEVER_STAGED, states_from_events
from hal.data.restart import _unsent
from tests.integration.test_data_stage_out import _controller

DAY = 86400.0


def test_an_output_never_staged_out_is_kept_from_the_start_that_first_finds_it(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    req = build_request("#!/bin/sh\ntrue\n", {"output-data": "r"}, {}, str(tmp_path), 0)
    (job,) = ctl.submit(req, "alice").job_ids
    with ctl.store.engine.begin() as conn:  # ended by a server without a data plane, 30 days ago
        values = {"state": "FAILED", "cause": f"{NEVER_STAGED}: no [data] table", "end_time": 1000.0}
        ctl.store.update_job(conn, job, values)
    folder = tmp_path / "jobdir"
    folder.mkdir()
    (folder / "r").write_text("the only copy")
    now = 1000.0 + 30 * DAY
    ctl.clock = lambda: now  # type: ignore[method-assign]
    assert _unsent(ctl, ctl.store.get(job) or {}, folder, 7 * DAY) == ("r",)  # the first start to find it
    assert states_from_events(ctl.store.events_of(job))["r"].endswith(f"(kept at {folder / 'r'})")
    now += 6 * DAY
    assert _unsent(ctl, ctl.store.get(job) or {}, folder, 7 * DAY) == ("r",)  # told 6 days ago: kept
    now += 2 * DAY
    assert _unsent(ctl, ctl.store.get(job) or {}, folder, 7 * DAY) == ()  # told over 7 days ago: removed
    assert states_from_events(ctl.store.events_of(job))["r"].endswith("(removed after keep_failed_outputs)")
    staging.shutdown()

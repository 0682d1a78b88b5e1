"""A reader's implicit afterok on the writer of its input (added at submission, not typed) is met once the catalog
holds that input: after the writer failed, an administrator's `hal dataset add` lets the reader run (QA MEDIUM: it
stayed DependencyNeverSatisfied for good, though README says such an input is tried again at once). A dependency
the user typed on the same writer stays as Slurm keeps it; `hal show` tells the two apart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from hal.api.views import record
from hal.cli.show import advice_for
from hal.controller.directives import build_request
from tests.integration.test_data_stage_out import _controller, _until


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def test_an_implicit_wait_on_a_failed_writer_is_met_once_the_catalog_holds_its_output(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    req = lambda script, opts: build_request(script, opts, {}, str(tmp_path), 0)  # noqa: E731
    (manual := tmp_path / "manual.txt").write_text("manual\n")
    writes = '#!/bin/sh\nsleep 1\necho x > "$HAL_DATA/pipe1"\nexit 1\n'
    (writer,) = ctl.submit(req(writes, {"output-data": "pipe1"}), "al").job_ids
    reads = f'#!/bin/sh\ncat "$HAL_DATA/pipe1" > {tmp_path}/got\n'
    (reader,) = ctl.submit(req(reads, {"input-data": "pipe1"}), "al").job_ids
    typed = {"input-data": "pipe1", "dependency": f"afterok:{writer}"}
    (asked,) = ctl.submit(req("#!/bin/sh\ntrue\n", typed), "al").job_ids
    ctl.start()
    try:
        never = "DependencyNeverSatisfied"
        _until(lambda: ctl.reason(reader) == never and ctl.reason(asked) == never, timeout=30)
        waiting = record(_job(ctl, reader), time.time(), detail=True) | {"reason": ctl.reason(reader)}
        told = record(_job(ctl, asked), time.time(), detail=True) | {"reason": ctl.reason(asked)}
        staging.stager.catalog.register_file("pipe1", str(manual))  # hal dataset add, by an administrator
        _until(lambda: _job(ctl, reader).get("state") == "COMPLETED", timeout=30)
        time.sleep(1.5)  # a few cycles: the typed dependency stays
        still = ctl.reason(asked)
    finally:
        ctl.stop()
        staging.shutdown()
    assert _job(ctl, writer)["state"] == "FAILED"
    assert waiting["reason"] == never and waiting["data_waits"] == {str(writer): ["pipe1"]}, waiting
    assert f"afterok:{writer} was added, not typed" in advice_for(waiting) and "hal dataset add" in advice_for(waiting)
    assert told["data_waits"] == {} and advice_for(told).startswith("a job it depends on ended the wrong way; cancel")
    done = _job(ctl, reader)
    assert done["state"] == "COMPLETED" and (tmp_path / "got").read_text() == "manual\n", done
    stored = json.loads(done["request"])
    assert stored["dependencies"] == [] and stored["data_waits"] == {} and stored["_deps"] == []
    causes = [str(e["cause"]) for e in ctl.store.events_of(reader)]
    assert any(c.startswith(f"afterok:{writer} met: job {writer} never published 'pipe1'") for c in causes), causes
    assert still == never and _job(ctl, asked)["state"] == "PENDING"  # typed: kept, as Slurm keeps it

"""QA: `hal requeue` of an ended job did not check its --output-data again: a job submitted meanwhile with the same
output (or a dataset registered by an admin) and the requeued job both published, the last silently replacing the
other in the catalog. A requeue is refused as the submission would be."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.requeue import requeue
from hal.data.catalog import Dataset
from tests.integration.test_data_stage_out import _controller, _until

ALICE = Identity("alice", admin=False)
FAIL = '#!/bin/sh\necho first > "$HAL_DATA/dup"\nexit 1\n'


def test_a_requeue_is_refused_when_its_output_was_taken_meanwhile(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(FAIL, {"output-data": "dup"}, {}, str(tmp_path), 0), "alice").job_ids
        _until(lambda: (ctl.store.get(job) or {}).get("state") == "FAILED")
        held = build_request('#!/bin/sh\necho x > "$HAL_DATA/dup"\n', {"output-data": "dup", "hold": "1"}, {},
                             str(tmp_path), 0)  # fmt: skip
        (other,) = ctl.submit(held, "alice").job_ids  # accepted: no queued job writes dup any more
        with pytest.raises(SubmitError, match=f"cannot requeue job {job}: .*already declares that output"):
            requeue(ctl, str(job), ALICE)
        ctl.cancel(str(other), ALICE)
        source = tmp_path / "adm.txt"
        source.write_text("the admin's\n")
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        staging.stager.catalog.register(Dataset("dup", 12, f"sha256:{digest}", str(source)))  # an admin's, meanwhile
        with pytest.raises(SubmitError, match="the catalog already has a dataset 'dup'"):
            requeue(ctl, str(job), ALICE)
        assert (ctl.store.get(job) or {})["state"] == "FAILED"
    finally:
        ctl.stop()
        staging.shutdown()

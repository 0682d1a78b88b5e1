"""A reader submitted while its writer's output is being staged out waits for the writer (an implicit afterok), as
one submitted while the writer still ran does. QA: it went CF, holding a node all through the stage-out, and
failed when the stage-out failed, while an explicit --dependency=afterok job waited PD."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from tests.integration.test_data_stage_out import _controller, _over, _until


class HeldFS(LocalFileSystem):  # type: ignore[misc]
    """Local files whose writes wait until the test opens the gate: a stage-out that takes as long as it needs."""

    protocol = "halheld"
    gate: ClassVar[threading.Event] = threading.Event()

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halheld://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode:
            self.gate.wait(60)
        return super()._open(path, mode, *args, **kwargs)


fsspec.register_implementation("halheld", HeldFS, clobber=True)


def test_a_reader_submitted_during_its_writers_stage_out_waits_on_it(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    HeldFS.gate = gate = threading.Event()  # the writer's stage-out hangs until the test opens it
    staging.outputs.dest = f"halheld://{tmp_path}/out/{{job}}/{{name}}"
    ctl.start()
    try:
        write = '#!/bin/sh\necho made-by-writer > "$HAL_DATA/late"\n'
        (writer,) = ctl.submit(build_request(write, {"output-data": "late"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: (ctl.store.get(writer) or {}).get("state") == "STAGE_OUT")
        read = '#!/bin/sh\ncat "$HAL_DATA/late" > "{out}"\n'.format(out=tmp_path / "read")
        cycles = ctl.cycles
        (reader,) = ctl.submit(build_request(read, {"input-data": "late"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: ctl.cycles >= cycles + 2)  # a whole cycle (and its launches) since the submission
        assert ctl.cycles >= cycles + 2, "the controller ran no cycle"
        assert reader not in staging.staging, "configuring, holding a node through the stage-out"
        assert ctl.live[reader].state == "PENDING" and ctl.reason(reader) == "Dependency"
        with pytest.raises(SubmitError, match="another user's ended job is staging it out"):
            ctl.submit(build_request(read, {"input-data": "late"}, {}, str(tmp_path), 0), "bo")
        gate.set()
        _until(_over(ctl, reader))
    finally:
        gate.set()
        ctl.stop()
        staging.outputs.shutdown()
    assert (ctl.store.get(writer) or {}).get("state") == "COMPLETED"
    assert (ctl.store.get(reader) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "read").read_text() == "made-by-writer\n"

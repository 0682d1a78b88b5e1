"""A folder output holding what a dataset cannot (a link leading out, to a folder or to nothing, a pipe) and any
error a stage-out or stage-in worker did not expect end the attempt with the reason; they were lost in the worker
pool's future and left the job in STAGE_OUT (or CF) for good, its readers and dependents with it (QA)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from hal.controller.directives import build_request
from hal.data.live import LiveStaging
from tests.integration.test_data_stage_out import _controller, _over, _until

WRITE = '#!/bin/sh\nmkdir -p "$HAL_DATA/ck"\necho w > "$HAL_DATA/ck/model.pt"\n{extra}\n'
EXTRAS = {
    "outside": ("ln -s /etc/hostname $HAL_DATA/ck/host", "ck: host is a link to /etc/hostname, outside the folder"),
    "folder": ("mkdir $HAL_DATA/ck/d; ln -s $HAL_DATA/ck/d $HAL_DATA/ck/up", "up is a link to a folder"),
    "nothing": ("ln -s $HAL_DATA/ck/gone $HAL_DATA/ck/dead", "dead is a link to nothing"),
    "fifo": ("mkfifo $HAL_DATA/ck/p", "ck: p is a device, pipe or socket"),
    "loop": ("ln -s l2 $HAL_DATA/ck/l1; ln -s l1 $HAL_DATA/ck/l2", "is a link in a loop of links"),
}


def _ended(ctl: object, job: int) -> dict[str, object]:
    return ctl.store.get(job) or {}  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("kind", sorted(EXTRAS))
def test_a_folder_output_holding_a_link_or_pipe_fails_and_its_readers_and_dependents_go_on(
    tmp_path: Path, kind: str
) -> None:
    ctl, staging = _controller(tmp_path)
    extra, said = EXTRAS[kind]
    req = lambda script, opts: build_request(script, opts, {}, str(tmp_path), 0)  # noqa: E731
    gate, copy_out = threading.Event(), staging.stager.copy_out
    staging.stager.copy_out = lambda *a: gate.wait(20) and copy_out(*a)  # type: ignore[method-assign]
    ctl.start()
    try:
        (writer,) = ctl.submit(req(WRITE.format(extra=extra), {"output-data": "ck"}), "al").job_ids
        (after,) = ctl.submit(req("#!/bin/sh\ntrue\n", {"dependency": f"afterany:{writer}"}), "al").job_ids
        _until(lambda: _ended(ctl, writer).get("state") == "STAGE_OUT")
        (reader,) = ctl.submit(req("#!/bin/sh\ntrue\n", {"input-data": "ck"}), "al").job_ids  # waits on the writer
        _until(lambda: ctl.reason(reader) == "Dependency")
        gate.set()
        _until(lambda: not {writer, after} & set(ctl.live) and ctl.reason(reader) != "Dependency", timeout=20)
        waits = ctl.reason(reader)
    finally:
        gate.set()
        ctl.stop()
        staging.shutdown()
    wrote = _ended(ctl, writer)
    assert wrote["state"] == "FAILED" and said in str(wrote["cause"]), wrote
    assert waits == "DependencyNeverSatisfied" and reader not in staging.staging  # never held a node meanwhile
    assert _ended(ctl, after)["state"] == "COMPLETED"
    assert staging.outputs is not None and "ck" not in staging.outputs.in_flight(["ck"])


def test_a_pipe_as_the_whole_output_is_said_to_be_a_pipe(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        script = '#!/bin/sh\nmkfifo "$HAL_DATA/f"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "f"}, {}, str(tmp_path), 0), "al").job_ids
        _until(_over(ctl, job))
    finally:
        ctl.stop()
        staging.shutdown()
    assert _ended(ctl, job)["state"] == "FAILED"
    assert "$HAL_DATA/f is a pipe; an output must be a file or folder" in str(_ended(ctl, job)["cause"])


def test_an_unexpected_error_in_a_stage_out_fails_the_output_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctl, staging = _controller(tmp_path)

    def broken(*args: object) -> tuple[str, int]:
        raise RuntimeError("a bug")

    staging.stager.copy_out = broken  # type: ignore[method-assign]
    ctl.start()
    try:
        script = '#!/bin/sh\necho x > "$HAL_DATA/r"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "r"}, {}, str(tmp_path), 0), "al").job_ids
        with caplog.at_level(logging.ERROR, logger="hal.data"):
            _until(lambda: _ended(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=20)
    finally:
        ctl.stop()
        staging.shutdown()
    wrote = _ended(ctl, job)
    assert wrote["state"] == "FAILED" and "internal error: RuntimeError: a bug" in str(wrote["cause"]), wrote
    assert any(r.exc_info and "stage-out of r" in r.getMessage() for r in caplog.records)


def test_an_unexpected_error_after_a_stage_in_ends_the_attempt_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctl, staging = _controller(tmp_path)
    src = tmp_path / "in.bin"
    src.write_bytes(b"d" * 1000)
    from hal.data.catalog import Dataset, checksum_of

    staging.stager.catalog.register(Dataset("d", 1000, checksum_of(str(src))[0], str(src)))

    def broken(*args: object) -> bool:
        raise RuntimeError("a bug after the copy")

    monkeypatch.setattr(LiveStaging, "_opened", broken)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "d"}, {}, str(tmp_path), 0), "al").job_ids
        with caplog.at_level(logging.ERROR, logger="hal.data"):
            _until(lambda: job not in ctl.live, timeout=20)
    finally:
        ctl.stop()
        staging.shutdown()
    ended = _ended(ctl, job)
    assert ended["state"] == "FAILED" and "internal error: RuntimeError: a bug after the copy" in str(ended["cause"])
    assert any(r.exc_info and "stage-in" in r.getMessage() for r in caplog.records)
    assert not staging.staging

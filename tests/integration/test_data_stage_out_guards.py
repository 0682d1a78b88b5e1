"""Stage-out guards (QA): a destination that stops answering fails the output after ``stall_timeout`` and never
holds a stopping server; an output never overwrites another dataset's copy, nor data no dataset names."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import fsspec
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem

from hal.controller.directives import build_request
from hal.data.catalog import Catalog
from tests.integration.test_data_stage_out import SCRIPT, _controller, _until


class FrozenFS(LocalFileSystem):  # type: ignore[misc]
    """Local files whose writes block until the test thaws them (fsfreeze, or a hung mount, in life)."""

    protocol = "halfrozen"
    thawed: ClassVar[threading.Event] = threading.Event()

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halfrozen://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if "w" not in mode:
            return super()._open(path, mode, *args, **kwargs)
        self.makedirs(self._parent(path), exist_ok=True)
        return _FrozenFile(self._strip_protocol(path), mode, fs=self)


class _FrozenFile(LocalFileOpener):  # type: ignore[misc]
    def write(self, data: bytes) -> int:
        FrozenFS.thawed.wait(12)  # bounded, so the old code's test fails instead of hanging
        return int(super().write(data))


fsspec.register_implementation("halfrozen", FrozenFS, clobber=True)


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def test_a_destination_that_stops_answering_fails_the_output_after_the_stall_timeout(tmp_path: Path) -> None:
    """The job sat in SO for good, its afterok dependants with it."""
    FrozenFS.thawed = threading.Event()
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    staging.outputs.dest = f"halfrozen://{tmp_path}/out/{{job}}/{{name}}"
    staging.stager.stall_timeout = 1.0
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(SCRIPT, {"output-data": "result"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=10)
        ended = _job(ctl, job)
    finally:
        FrozenFS.thawed.set()
        ctl.stop()
        staging.shutdown()
    assert ended["state"] == "FAILED", ended
    state = staging.outputs.state_of(job)["result"]
    assert "took no data for 1 s (stall_timeout)" in state, state
    events = [e["cause"] for e in ctl.store.events_of(job) if e["state"] == "STAGE_OUT"]
    assert any("result: failed:" in str(c) and "(kept at " in str(c) for c in events), events
    out = tmp_path / "out" / str(job)
    _until(
        lambda: not list(out.glob("result~partial-*")), timeout=10
    )  # the worker, woken, tidies and publishes nothing
    assert not list(out.iterdir())


def test_a_stopping_server_does_not_wait_for_a_hung_stage_out(tmp_path: Path) -> None:
    """The server stopped listening but its process did not exit until the file system was thawed."""
    FrozenFS.thawed = threading.Event()
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "big").write_bytes(b"x" * 100_000)
    staging.outputs.dest = f"halfrozen://{tmp_path}/out/{{job}}/{{name}}"
    with ctl.lock:
        staging.outputs.after_end(ctl, 7, ("big",), node, "COMPLETED")
    out = tmp_path / "out" / "7"
    _until(lambda: bool(list(out.glob("big~partial-*"))), timeout=10)
    t0 = time.monotonic()
    try:
        staging.shutdown()
        took = time.monotonic() - t0
    finally:
        FrozenFS.thawed.set()
    assert took < 3, took
    assert staging.outputs.state_of(7) == {"big": "staging"}  # unsettled: the next start stages it out
    _until(lambda: not list(out.glob("big~partial-*")), timeout=10)
    assert not (out / "big").exists() and (staging.stager.job_dir(node, 7) / "big").exists()


def test_an_output_never_overwrites_another_datasets_origin_or_unnamed_data(tmp_path: Path) -> None:
    """output_uri "/tmp/src/{name}": a job's output overwrote dataset a's only origin, with no warning."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "ds_a").write_bytes(b"origin of a\n")
    (src / "stray").write_bytes(b"nobody's\n")
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    staging.stager.catalog.register_file("a", str(src / "ds_a"))
    staging.outputs.dest = f"{src}/{{name}}"

    def run(name: str, text: str) -> int:
        script = f'#!/bin/sh\necho {text} > "$HAL_DATA/{name}"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": name}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=20)
        return job

    ctl.start()
    try:
        onto_a, stray, new = run("ds_a", "overwritten"), run("stray", "mine"), run("fresh", "one")
        staging.stager.catalog.forget("fresh")  # hal dataset rm: its file stays, and a re-run may write it again
        again = run("fresh", "two")
    finally:
        ctl.stop()
        staging.shutdown()
    assert (src / "ds_a").read_bytes() == b"origin of a\n" and (src / "stray").read_bytes() == b"nobody's\n"
    refused = _job(ctl, onto_a)
    assert refused["state"] == "FAILED" and "registered copy of dataset 'a'" in str(refused["cause"]), refused
    causes = [str(e["cause"]) for e in ctl.store.events_of(onto_a) if e["state"] == "STAGE_OUT"]
    assert any("(kept at " in c for c in causes), causes
    assert _job(ctl, stray)["state"] == "FAILED"
    assert "already holds data no dataset names" in str(_job(ctl, stray)["cause"])
    assert _job(ctl, new)["state"] == _job(ctl, again)["state"] == "COMPLETED"
    assert (src / "fresh").read_bytes() == b"two\n"
    assert Catalog(tmp_path / "catalog.json").get("a").uri == str(src / "ds_a")


def test_a_copy_that_landed_before_a_restart_is_taken_again(tmp_path: Path) -> None:
    """A restart's catch-up redoes a stage-out whose file had landed but was never registered: same bytes, taken."""
    ctl, staging = _controller(tmp_path)
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(4, node, ()) / "r").write_bytes(b"same\n")
    dest = tmp_path / "out" / "4" / "r"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"same\n")
    _, size = staging.stager.copy_out(4, "r", node, str(dest))
    assert size == 5 and dest.read_bytes() == b"same\n"
    dest.write_bytes(b"else\n")
    try:
        staging.stager.copy_out(4, "r", node, str(dest))
    except Exception as exc:
        assert "already holds data no dataset names" in str(exc)
    else:
        raise AssertionError("an unnamed file was overwritten")
    staging.shutdown()


def test_a_failed_outputs_file_is_removed_by_the_first_start_after_keep_failed_outputs(tmp_path: Path) -> None:
    """Failed stage-outs' files piled up in the job folders, outside the cache's limit, through every restart."""
    from hal.data.outputs import states_from_events

    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    (tmp_path / "taken" / "r").mkdir(parents=True)  # a folder where the output would go: its stage-out fails
    staging.outputs.dest = f"{tmp_path}/taken/{{name}}"
    ctl.start()
    try:
        script = '#!/bin/sh\necho x > "$HAL_DATA/r"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "r"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=20)
    finally:
        ctl.stop()
        staging.shutdown()
    assert _job(ctl, job)["state"] == "FAILED"
    (kept,) = (tmp_path / "cache").glob(f"*/.jobs/{job}/r")
    for keep, there in ((3600.0, True), (0.001, False)):  # kept while young, removed once older than that
        again, resumed = _controller(tmp_path)
        resumed.stager.keep_failed_outputs = keep
        resumed.resume(again, since=0.0)
        resumed.shutdown()
        assert kept.exists() == there, keep
    assert states_from_events(again.store.events_of(job))["r"].endswith("(removed after keep_failed_outputs)")

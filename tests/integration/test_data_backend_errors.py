"""A storage backend's own errors are failed copies, tried again per the retry policy: fsspec's FTP backend raises
ftplib's errors and EOFError (a server killed mid-copy), none an OSError. QA: the stage-out failed at once with
"internal error: EOFError:" without using ``attempts``, its partial file left at the destination, and a stage-in
failed the same way with no retry."""

from __future__ import annotations

import ftplib
import hashlib
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem

from hal.controller.directives import build_request
from hal.data.cache import NodeCache
from hal.data.catalog import Catalog, Dataset
from hal.data.stager import RetryPolicy, Stager
from tests.integration.test_data_stage_out import SCRIPT, _controller, _until


class DroppingFS(LocalFileSystem):  # type: ignore[misc]
    """Local files on a connection that drops: the first ``drops`` reads or writes raise EOFError mid-file (an
    FTP server killed), those after work."""

    protocol = "haldropping"
    drops: ClassVar[int] = 0

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("haldropping://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode:
            self.makedirs(self._parent(path), exist_ok=True)
        return _DroppingFile(self._strip_protocol(path), mode, fs=self)


class _DroppingFile(LocalFileOpener):  # type: ignore[misc]
    def _drop(self) -> None:
        if DroppingFS.drops > 0:
            DroppingFS.drops -= 1
            raise EOFError

    def write(self, data: bytes) -> int:
        written = int(super().write(data[: len(data) // 2]))  # half of it landed: a partial file stays
        self._drop()
        return written + int(super().write(data[len(data) // 2 :]))

    def read(self, *args: Any) -> bytes:
        got = bytes(super().read(*args))
        if got:
            self._drop()
        return got


fsspec.register_implementation("haldropping", DroppingFS, clobber=True)


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def _stage_out(tmp_path: Path, drops: int, attempts: int) -> tuple[Any, int, dict[str, Any], int]:
    """A job's output staged out to storage that drops the connection ``drops`` times: the staging, the job id,
    its record once ended and the drops left."""
    DroppingFS.drops = drops
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    staging.outputs.dest = f"haldropping://{tmp_path}/out/{{job}}/{{name}}"
    staging.stager.policy = RetryPolicy(attempts=attempts, backoff=0.05)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(SCRIPT, {"output-data": "result"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=30)
        ended, left = _job(ctl, job), DroppingFS.drops
    finally:
        DroppingFS.drops = 0
        ctl.stop()
        staging.shutdown()
    return staging, job, ended, left


def test_a_dropped_connection_mid_stage_out_is_tried_again(tmp_path: Path) -> None:
    _, job, ended, left = _stage_out(tmp_path, drops=2, attempts=3)
    assert ended["state"] == "COMPLETED", ended
    out = tmp_path / "out" / str(job)
    assert sorted(p.name for p in out.iterdir()) == ["result"]  # the dropped copies' partial files removed
    assert left == 0


def test_storage_that_keeps_dropping_fails_the_output_with_its_error_after_every_attempt(tmp_path: Path) -> None:
    staging, job, ended, left = _stage_out(tmp_path, drops=100, attempts=2)
    assert ended["state"] == "FAILED", ended
    state = staging.outputs.state_of(job)["result"]
    assert "storage failed: EOFError" in state and "internal error" not in state, state
    assert left == 98  # both attempts made


def test_a_dropped_connection_mid_stage_in_is_tried_again(tmp_path: Path) -> None:
    src = tmp_path / "store" / "reads"
    src.parent.mkdir()
    src.write_bytes(b"r" * 5000)
    catalog = Catalog(tmp_path / "catalog.json")
    digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    catalog.register(Dataset("reads", 5000, digest, f"haldropping://{src}"))
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=100_000)}
    stager = Stager(catalog, caches, RetryPolicy(attempts=3, backoff=0.0), sleep=lambda s: None)
    DroppingFS.drops = 1
    got = stager.stage_in(1, ("reads",), ["n0"])
    assert got[0].attempts == 2 and caches["n0"].path_of("reads").read_bytes() == src.read_bytes()
    assert not [p for p in caches["n0"].root.iterdir() if "partial" in p.name]


class RefusingFS(LocalFileSystem):  # type: ignore[misc]
    """A destination whose server refuses every listing (ftplib's error_temp: '421 too many connections')."""

    protocol = "halrefusing"

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halrefusing://")))

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> Any:
        raise ftplib.error_temp("421 Too many connections")


fsspec.register_implementation("halrefusing", RefusingFS, clobber=True)


def test_a_backend_error_is_an_os_error_and_hal_s_own_errors_stay_what_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=100_000)}
    stager = Stager(catalog, caches, RetryPolicy(attempts=1, backoff=0.0), sleep=lambda s: None)
    (stager.open_job_dir(1, "n0", ()) / "r").write_bytes(b"x")
    with pytest.raises(OSError, match="storage failed: error_temp: 421 Too many connections") as caught:
        stager.copy_out(1, "r", "n0", f"halrefusing://{tmp_path}/out/r")
    assert isinstance(caught.value.__cause__, ftplib.error_temp)
    import hal.data.stage_out

    def bug(*args: Any) -> None:
        raise TypeError("a bug in HAL's own code")

    monkeypatch.setattr(hal.data.stage_out, "_may_replace", bug)  # between the backend's calls: not converted
    with pytest.raises(TypeError, match="a bug in HAL"):
        stager.copy_out(1, "r", "n0", f"{tmp_path}/out/r")
    assert not list((tmp_path / "out").iterdir())  # its partial file removed

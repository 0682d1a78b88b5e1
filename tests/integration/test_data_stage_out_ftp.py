"""Outputs staged out to a real FTP server (pyftpdlib on 127.0.0.1): output_uri's ``{job}`` names a folder no one
made, which the stage-out makes. QA: ``ftp://host/out/{job}/{name}`` failed every output with "550 No such file or
directory" (only local destinations had their folder made), though the README names FTP and uses ``{job}``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.ftp import FTPFileSystem
from fsspec.implementations.local import LocalFileSystem

from hal.controller.directives import build_request
from hal.data.storage import storage_fs
from tests.ftp_server import ftp_server
from tests.integration.test_data_stage_out import SCRIPT, _controller, _until

pytestmark = pytest.mark.filterwarnings("ignore:write permissions assigned to anonymous user:RuntimeWarning")


@pytest.fixture
def ftp_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An FTP server serving a fresh folder to anonymous users with every write permission: its URL and folder."""
    root = tmp_path / "ftp"
    root.mkdir()
    with ftp_server(root) as url:
        yield url, root
        FTPFileSystem.clear_instance_cache()  # connections to this server: none reused by a later test


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def test_an_output_to_ftp_gets_its_job_folder_made(tmp_path: Path, ftp_root: tuple[str, Path]) -> None:
    url, root = ftp_root
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    staging.outputs.dest = f"{url}/out/{{job}}/{{name}}"
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(SCRIPT, {"output-data": "result"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=30)
        ended, state = _job(ctl, job), staging.outputs.state_of(job)
    finally:
        ctl.stop()
        staging.shutdown()
    assert ended["state"] == "COMPLETED", (ended, state)
    landed = root / "out" / str(job) / "result"
    assert sorted(p.name for p in landed.parent.iterdir()) == ["result"]  # no temporary left beside it
    dataset = staging.stager.catalog.get("result")
    assert dataset.size == 300000 == landed.stat().st_size
    assert dataset.checksum == "sha256:" + hashlib.sha256(landed.read_bytes()).hexdigest()


class NoFoldersFS(LocalFileSystem):  # type: ignore[misc]
    """Files with no folders to make: makedirs refuses, as a flat store of keys may, though writes work."""

    protocol = "halnofolders"

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halnofolders://")))

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        raise PermissionError(f"no folders here: {path}")


fsspec.register_implementation("halnofolders", NoFoldersFS, clobber=True)


def test_a_refused_folder_does_not_fail_a_copy_that_needs_none(tmp_path: Path) -> None:
    from hal.data.destination import make_parent

    (tmp_path / "out").mkdir()
    fs, path = storage_fs(f"halnofolders://{tmp_path}/out/x")
    make_parent(fs, path)  # told in the log, not raised
    with fs.open(path, "wb") as f:
        f.write(b"data")
    assert (tmp_path / "out" / "x").read_bytes() == b"data"


def test_object_stores_are_not_asked_for_folders(tmp_path: Path) -> None:
    from hal.data.destination import make_parent

    class Bucketless(NoFoldersFS):
        protocol = ("s3", "s3a")

        def makedirs(self, path: str, exist_ok: bool = False) -> None:
            raise AssertionError("makedirs on an object store may create a bucket")

    make_parent(Bucketless(), "bucket/out/3/x")

"""A stage-out's temporary names at its destination never collide with another dataset's: names may hold '.' and
'-', so ``x.partial-1`` and ``x.old-1-2`` are datasets (QA: a stage-out of ``x`` deleted the first's origin and
moved the second's onto its own path, then failed), and its clean-up takes only its own temporaries."""

from __future__ import annotations

import ftplib
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog
from hal.data.stage_out import unpublish
from hal.data.stager import RetryPolicy, Stager


@pytest.fixture
def stager(tmp_path: Path) -> Stager:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {n: NodeCache(n, tmp_path / "cache" / n, capacity=100_000) for n in ("n0", "n1")}
    return Stager(catalog, caches, RetryPolicy(attempts=1, backoff=0.0), sleep=lambda s: None)


def _output(stager: Stager, job: int, name: str, data: bytes, folder: bool = False) -> None:
    jobs = stager.job_dir("n0", job)
    where = (jobs if jobs.is_dir() else stager.open_job_dir(job, "n0", ())) / name
    if folder:
        (where / "sub").mkdir(parents=True)
        (where / "sub" / "part").write_bytes(data)
    else:
        where.write_bytes(data)


def test_an_output_leaves_published_datasets_whose_names_extend_its_own_alone(stager: Stager, tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    _output(stager, 1, "res.partial-1", b"first")
    stager.stage_out(1, "res.partial-1", "n0", str(flat / "res.partial-1"))
    _output(stager, 2, "res.old-1-2", b"second", folder=True)
    stager.stage_out(2, "res.old-1-2", "n0", str(flat / "res.old-1-2"))
    _output(stager, 3, "res", b"third", folder=True)
    stager.stage_out(3, "res", "n0", str(flat / "res"))  # failed: "already holds data no dataset names"
    assert (flat / "res.partial-1").read_bytes() == b"first"
    assert (flat / "res.old-1-2" / "sub" / "part").read_bytes() == b"second"
    assert (flat / "res" / "sub" / "part").read_bytes() == b"third"
    assert sorted(p.name for p in flat.iterdir()) == ["res", "res.old-1-2", "res.partial-1"]
    assert set(stager.catalog.datasets) == {"res", "res.partial-1", "res.old-1-2"}


def test_one_job_may_write_outputs_whose_names_extend_each_other(stager: Stager, tmp_path: Path) -> None:
    """`--output-data x.partial-1,x.old-1-2,x`: the last one's clean-up took the other two."""
    out = tmp_path / "out" / "4"
    for name in ("x.partial-1", "x.old-1-2", "x"):
        _output(stager, 4, name, name.encode(), folder=name != "x.partial-1")
    for name in ("x.partial-1", "x.old-1-2", "x"):
        stager.stage_out(4, name, "n0", str(out / name))
    assert (out / "x.partial-1").read_bytes() == b"x.partial-1"
    assert (out / "x.old-1-2" / "sub" / "part").read_bytes() == b"x.old-1-2"
    assert (out / "x" / "sub" / "part").read_bytes() == b"x"


def test_a_cancelled_stage_out_removes_only_its_own_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in ("x", "x.partial-1-2", "x~partial-7-8"):
        (out / name).write_text(name)
    unpublish(str(out / "x"))
    assert sorted(p.name for p in out.iterdir()) == ["x.partial-1-2"]


class FtpLikeFS(LocalFileSystem):  # type: ignore[misc]
    """Local files removed and listed as fsspec's FTP backend does: a recursive removal of a file lists it as a
    folder, which the server refuses ("550 Not a directory"), and a listing without detail gives bare names."""

    protocol = "halftplike"

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halftplike://")))

    def rm(self, path: Any, recursive: bool = False, maxdepth: Any = None) -> None:
        if recursive and self.isfile(path):
            raise ftplib.error_perm("550 Not a directory.")
        super().rm(path, recursive=recursive, maxdepth=maxdepth)

    def ls(self, path: Any, detail: bool = False, **kwargs: Any) -> Any:
        got = super().ls(path, detail=detail, **kwargs)
        return got if detail else [Path(p).name for p in got]


fsspec.register_implementation("halftplike", FtpLikeFS, clobber=True)


def test_a_stale_partial_file_is_removed_as_a_file(stager: Stager, tmp_path: Path) -> None:
    """A restart's catch-up after a stage-out to FTP was cut: the stale partial file failed the job FAILED with
    'internal error: error_perm: 550 Not a directory'."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "r~partial-99-1").write_bytes(b"half")  # a copy a killed server left
    _output(stager, 5, "r", b"whole")
    stager.stage_out(5, "r", "n0", f"halftplike://{out}/r")
    assert sorted(p.name for p in out.iterdir()) == ["r"] and (out / "r").read_bytes() == b"whole"


def test_a_cancel_removes_a_landed_file_as_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "r").write_bytes(b"landed as the cancel came")
    unpublish(f"halftplike://{out}/r")
    assert not list(out.iterdir())

"""An output that is a hard link to a file outside the job's folder is published as a copy of its own. QA: `hal
submit --output-data hl2 --wrap 'ln /tmp/qa-data/mine.txt $HAL_DATA/hl2'` made mine.txt read-only (the output is
sealed in place) and the cached copy shared its inode; the same for a dataset's origin linked as an output."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog
from hal.data.stager import RetryPolicy, Stager


@pytest.fixture
def stager(tmp_path: Path) -> Stager:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=100_000)}
    return Stager(catalog, caches, RetryPolicy(attempts=1, backoff=0.0), sleep=lambda s: None)


def _untouched(path: Path, data: bytes) -> None:
    st = path.stat()
    assert path.read_bytes() == data and st.st_nlink == 1 and stat.S_IMODE(st.st_mode) & stat.S_IWUSR, oct(st.st_mode)


def test_a_hard_linked_file_output_is_published_as_its_own_copy(stager: Stager, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_bytes(b"the user's own file\n")
    mine.chmod(0o644)
    os.link(mine, stager.open_job_dir(1, "n0", ()) / "hl2")
    ds = stager.stage_out(1, "hl2", "n0", str(tmp_path / "out" / "hl2"))
    _untouched(mine, b"the user's own file\n")
    cached = stager.caches["n0"].path_of("hl2")
    assert cached.read_bytes() == b"the user's own file\n" and not cached.samefile(mine)
    assert ds.size == len(b"the user's own file\n") and (tmp_path / "out" / "hl2").read_bytes() == mine.read_bytes()


def test_a_folder_output_holding_a_hard_link_publishes_a_copy_of_that_file(stager: Stager, tmp_path: Path) -> None:
    origin = tmp_path / "src" / "d1.bin"
    origin.parent.mkdir()
    origin.write_bytes(b"a dataset's origin\n")
    origin.chmod(0o644)
    stager.catalog.register_file("d1", str(origin))
    ckpt = stager.open_job_dir(2, "n0", ()) / "ckpt"
    (ckpt / "sub").mkdir(parents=True)
    (ckpt / "own.pt").write_bytes(b"written by the job\n")
    os.link(origin, ckpt / "sub" / "d1.bin")
    stager.stage_out(2, "ckpt", "n0", str(tmp_path / "out" / "ckpt"))
    _untouched(origin, b"a dataset's origin\n")
    cached = stager.caches["n0"].path_of("ckpt") / "sub" / "d1.bin"
    assert cached.read_bytes() == b"a dataset's origin\n" and not cached.samefile(origin)

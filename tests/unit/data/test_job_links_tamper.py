"""A job reads its inputs through hard links to the node's cached copies and runs as the server's user, so it can
write one and put the mtime back (QA HIGH: the next job on the node, any user's, read the changed bytes), or swap
two files of a cached tree. Such a copy is never served again; HAL's own links, made and removed for every job,
cost no checksum."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog
from hal.data.stager import RetryPolicy, Stager
from tests.unit.data.test_folder_datasets import tree

Plane = tuple[Catalog, dict[str, NodeCache], Stager]


@pytest.fixture
def plane(tmp_path: Path) -> Plane:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=100_000)}
    return catalog, caches, Stager(catalog, caches, RetryPolicy(attempts=2, backoff=0.01), sleep=lambda s: None)


def run_job(stager: Stager, job_id: int, names: tuple[str, ...], work: object = None) -> Path:
    """As the controller runs one: inputs staged and pinned, its folder opened, the job's work, folder closed."""
    got = stager.stage_in(job_id, names, ["n0"])
    folder = stager.open_job_dir(job_id, "n0", names)
    if callable(work):
        work(folder)
    stager.close_job_dir("n0", job_id)
    stager.release(job_id)
    assert len(got) == len(names)
    return folder


def write_keeping_mtime(path: Path, data: bytes) -> None:
    st = path.stat()
    path.chmod(0o644)
    with path.open("r+b") as f:
        f.write(data)
    path.chmod(st.st_mode)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_write_through_a_jobs_link_with_the_mtime_put_back_is_never_served(plane: Plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    src = tmp_path / "src" / "p2"
    src.parent.mkdir()
    src.write_bytes(b"x" * 5000)
    catalog.register_file("p2", str(src))
    run_job(stager, 1, ("p2",))
    run_job(stager, 2, ("p2",), lambda folder: write_keeping_mtime(folder / "p2", b"EVIL"))
    got = stager.stage_in(3, ("p2",), ["n0"])
    assert not got[0].hit  # found changed and staged again
    assert caches["n0"].path_of("p2").read_bytes() == b"x" * 5000


def test_a_cached_trees_files_swapped_are_found(plane: Plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    catalog.register_file("dir3", str(tree(tmp_path / "src" / "dir3", {"x.txt": b"AA\n", "y.txt": b"BB\n"})))
    run_job(stager, 1, ("dir3",))
    cached = caches["n0"].path_of("dir3")
    (cached / "x.txt").rename(cached / "t")
    (cached / "y.txt").rename(cached / "x.txt")
    (cached / "t").rename(cached / "y.txt")
    stager.stage_in(2, ("dir3",), ["n0"])
    assert (cached / "x.txt").read_bytes() == b"AA\n"


def test_hals_own_links_keep_a_copy_trusted_and_a_removed_link_costs_one_checksum(
    plane: Plane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, caches, stager = plane
    catalog.register_file("a", str(tree(tmp_path / "src" / "a", {"f": b"1" * 300, "sub/g": b"2" * 200})))
    catalog.register_file("b", str(tree(tmp_path / "src", {"b.bin": b"3" * 400}) / "b.bin"))
    run_job(stager, 1, ("a", "b"))
    import hal.data.stager

    sums: list[str] = []
    real = hal.data.stager.checksum_of
    monkeypatch.setattr(hal.data.stager, "checksum_of", lambda uri, *a, **k: sums.append(uri) or real(uri, *a, **k))
    for job in (2, 3, 4):  # jobs that only read: hits, and no checksum read
        run_job(stager, job, ("a", "b"))
        assert not caches["n0"].unverified
    assert all(s.hit for s in stager.stage_in(5, ("a", "b"), ["n0"])) and sums == []
    stager.release(5)
    run_job(stager, 6, ("b",), lambda folder: (folder / "b").unlink())  # a job tidying its own folder
    assert caches["n0"].has("b") and "b" in caches["n0"].unverified
    got = stager.stage_in(7, ("b",), ["n0"])
    assert got[0].hit and len(sums) == 1  # checksummed once, found good, served
    stager.release(7)
    assert stager.stage_in(8, ("b",), ["n0"])[0].hit and len(sums) == 1  # trusted again

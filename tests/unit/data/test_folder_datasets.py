"""Folder datasets (shards, checkpoints): one tree digest, registered, staged as a whole into a node cache
(a temporary folder renamed once verified), evicted whole, mirrored into a job's $HAL_DATA, and staged out."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog, Dataset, checksum_of, unreadable
from hal.data.stager import RetryPolicy, StageError, Stager
from hal.data.tree import TREE, tree_digest


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


SHARDS = {"shard-0.bin": b"a" * 1000, "shard-1.bin": b"b" * 1500, "meta/index.json": b'{"shards": 2}'}
SIZE = sum(len(v) for v in SHARDS.values())


@pytest.fixture
def plane(tmp_path: Path) -> tuple[Catalog, dict[str, NodeCache], Stager]:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {n: NodeCache(n, tmp_path / "cache" / n, capacity=10_000) for n in ("n0", "n1")}
    return catalog, caches, Stager(catalog, caches, RetryPolicy(attempts=2, backoff=0.01), sleep=lambda s: None)


def test_the_tree_digest_is_defined_by_sorted_records_of_path_size_and_file_digest(tmp_path: Path) -> None:
    records = [(rel, len(data), hashlib.sha256(data).hexdigest()) for rel, data in SHARDS.items()]
    expected = hashlib.sha256(b"".join(b"%s\0%d\0%s\n" % (r.encode(), n, h.encode()) for r, n, h in sorted(records)))
    assert tree_digest(records) == tree_digest(reversed(records)) == TREE + expected.hexdigest()  # order-free
    digest, size = checksum_of(str(tree(tmp_path / "a", SHARDS)))
    assert (digest, size) == (tree_digest(records), SIZE)
    changed = tree(tmp_path / "b", {**SHARDS, "shard-1.bin": b"b" * 1499 + b"c"})  # one byte
    rest = {k: v for k, v in SHARDS.items() if k != "shard-1.bin"}
    renamed = tree(tmp_path / "c", {**rest, "shard-2.bin": b"b" * 1500})
    moved = tree(tmp_path / "d", {**rest, "x/shard-1.bin": b"b" * 1500})
    others = {checksum_of(str(p))[0] for p in (changed, renamed, moved)}
    assert len(others) == 3 and digest not in others
    assert checksum_of(f"file://{tmp_path / 'a'}/")[0] == digest  # as a URL, trailing slash or not
    empty_dirs = tree(tmp_path / "e", SHARDS)
    (empty_dirs / "nothing" / "here").mkdir(parents=True)  # folders are not part of it
    assert checksum_of(str(empty_dirs))[0] == digest


def _said(uri: str) -> str:
    with pytest.raises(Exception) as failed:
        checksum_of(uri)
    return unreadable(uri, failed.value)


def test_a_folder_holding_what_the_server_must_not_read_is_refused_by_name(tmp_path: Path) -> None:
    outside = tree(tmp_path / "out", {"secret": b"s"}) / "secret"
    linked = tree(tmp_path / "linked", SHARDS)
    (linked / "meta" / "key").symlink_to(outside)
    assert _said(str(linked)) == f"{linked}: meta/key is a link to {outside}, outside the folder"
    zero = tree(tmp_path / "zero", SHARDS)
    (zero / "z").symlink_to("/dev/zero")
    assert "z is a link to /dev/zero, outside the folder" in _said(str(zero))
    piped = tree(tmp_path / "piped", SHARDS)
    os.mkfifo(piped / "meta" / "fifo")
    assert _said(str(piped)) == f"{piped}: meta/fifo is a device, pipe or socket; a folder dataset holds files"
    looped = tree(tmp_path / "looped", SHARDS)
    (looped / "meta" / "up").symlink_to(looped)
    assert "meta/up is a link to a folder, device or pipe" in _said(str(looped))
    loop = tree(tmp_path / "loop", SHARDS)  # links naming each other: was a raw "[Errno 40] Too many levels ..."
    (loop / "l1").symlink_to("l2")
    (loop / "l2").symlink_to("l1")
    said = _said(str(loop))  # either link is met first
    assert said in (f"{loop}: {n} is a link in a loop of links; only links to files are followed" for n in ("l1", "l2"))
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    said = _said(str(tmp_path / "empty"))
    assert said == f"{tmp_path / 'empty'} is an empty folder: a folder dataset holds at least one file"
    inside = tree(tmp_path / "inside", SHARDS)  # a link to a file inside the folder counts as that file
    (inside / "latest.bin").symlink_to(inside / "shard-1.bin")
    plain = tree(tmp_path / "plain", {**SHARDS, "latest.bin": SHARDS["shard-1.bin"]})
    assert checksum_of(str(inside)) == checksum_of(str(plain))


def test_a_folder_dataset_is_staged_verified_sealed_and_mirrored_into_the_jobs_folder(plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    src = tree(tmp_path / "store" / "shards", SHARDS)
    ds = catalog.register_file("shards", str(src), home="site=onprem")
    assert ds.size == SIZE and ds.checksum.startswith(TREE)
    assert Catalog(tmp_path / "catalog.json").get("shards") == ds  # a tree checksum loads again
    got = stager.stage_in(1, ("shards",), ["n0"])[0]
    cached = caches["n0"].path_of("shards")
    assert got.bytes_copied == SIZE and got.source == "site=onprem" and caches["n0"].entries["shards"] == SIZE
    assert {str(p.relative_to(cached)) for p in cached.rglob("*") if p.is_file()} == set(SHARDS)
    assert checksum_of(str(cached)) == (ds.checksum, SIZE)
    assert (cached / "meta").stat().st_mode & 0o777 == 0o555  # sealed: nothing added to the cached tree
    assert (cached / "shard-0.bin").stat().st_mode & 0o777 == 0o444
    assert not [p for p in caches["n0"].root.iterdir() if p.name.endswith(".partial")]
    assert stager.stage_in(2, ("shards",), ["n0"])[0].hit
    # another node reads the first node's cached tree first (inside the cluster), checked by its digest again
    assert stager.stage_in(3, ("shards",), ["n1"])[0].source == "n0"
    folder = stager.open_job_dir(1, "n0", ("shards",))
    mine = folder / "shards"
    assert (mine / "meta" / "index.json").stat().st_ino == (cached / "meta" / "index.json").stat().st_ino  # links
    (mine / "meta" / "scratch").write_text("the job's own")  # its own folders: nothing reaches the cached tree
    (mine / "shard-0.bin").unlink()
    assert not (cached / "meta" / "scratch").exists() and (cached / "shard-0.bin").exists()
    assert caches["n0"].has("shards")
    stager.close_job_dir("n0", 1)
    assert not folder.exists() and caches["n0"].has("shards")


def test_a_changed_tree_fails_its_staging_with_the_reason_and_leaves_nothing(plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    src = tree(tmp_path / "store" / "shards", SHARDS)
    catalog.register_file("shards", str(src))
    (src / "shard-0.bin").write_bytes(b"A" + b"a" * 999)  # changed after registration
    with pytest.raises(StageError, match=r"after 2 attempt.*checksum mismatch: expected sha256-tree:") as err:
        stager.stage_in(1, ("shards",), ["n0"])
    assert err.value.attempts == 2  # retried per policy, as a file is
    assert not caches["n0"].has("shards") and not list(caches["n0"].root.iterdir()) and not caches["n0"].reserved
    (src / "shard-0.bin").write_bytes(SHARDS["shard-0.bin"])  # put right: staged
    assert stager.stage_in(2, ("shards",), ["n0"])[0].bytes_copied == SIZE


def test_a_tree_counts_its_bytes_and_is_evicted_whole(plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    catalog.register_file("shards", str(tree(tmp_path / "store" / "shards", SHARDS)))
    stager.stage_in(1, ("shards",), ["n0"])
    stager.release(1)
    big = tmp_path / "store" / "big"
    big.write_bytes(b"x" * 8000)
    catalog.register_file("big", str(big))
    assert caches["n0"].used() == SIZE
    stager.stage_in(2, ("big",), ["n0"])  # 8,000 + 2,513 > 10,000: the tree goes, all of it
    assert set(caches["n0"].entries) == {"big"} and not caches["n0"].path_of("shards").exists()
    assert "n0" not in {r.location for r in catalog.replicas_of("shards")}
    stager.release(2)
    stager.stage_in(3, ("shards",), ["n0"])  # pinned while in use: the tree evicts big, not the reverse
    with pytest.raises(StageError, match="pinned"):
        stager.stage_in(3, ("big",), ["n0"])
    assert caches["n0"].has("shards")


def test_a_half_copied_tree_is_never_taken_as_a_copy_and_a_whole_one_is_checked_first(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "n0"
    tree(root / ".shards.4.partial", {"shard-0.bin": b"a" * 1000})  # a crash mid-copy
    whole = tree(root / "shards", SHARDS)
    cache = NodeCache("n0", root, capacity=10_000)
    assert not (root / ".shards.4.partial").exists() and cache.entries == {"shards": SIZE}
    assert "shards" in cache.unverified and cache.has("shards")  # checksummed before a job first reads it
    catalog = Catalog(tmp_path / "catalog.json")
    catalog.register_file("shards", str(tree(tmp_path / "store" / "shards", SHARDS)))
    (whole / "shard-0.bin").write_bytes(b"b" * 1000)  # changed while no server ran: same size
    stager = Stager(catalog, {"n0": cache}, RetryPolicy(attempts=1), sleep=lambda s: None)
    got = stager.stage_one(1, "shards", "n0")
    assert got.bytes_copied == SIZE and (whole / "shard-0.bin").read_bytes() == SHARDS["shard-0.bin"]


def test_a_tree_changed_behind_hals_back_is_dropped(plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    catalog.register_file("shards", str(tree(tmp_path / "store" / "shards", SHARDS)))
    stager.stage_in(1, ("shards",), ["n0"])
    stager.release(1)
    caches["n0"].touch("shards")  # LRU touches the folder itself: still the same copy
    assert caches["n0"].has("shards")
    meta = caches["n0"].path_of("shards") / "meta"
    meta.chmod(0o755)
    (meta / "extra").write_text("x")  # a file added deep inside
    assert not caches["n0"].has("shards") and not caches["n0"].path_of("shards").exists()
    assert "n0" not in {r.location for r in catalog.replicas_of("shards")}


def test_a_folder_output_is_staged_out_as_a_tree_and_published_into_the_cache(plane, tmp_path: Path) -> None:
    catalog, caches, stager = plane
    ckpt = tree(stager.open_job_dir(1, "n0", ()) / "ckpt", {"model.pt": b"w" * 700, "opt/state.pt": b"s" * 300})
    (ckpt / "latest.pt").symlink_to(ckpt / "model.pt")  # a link inside: sent (and cached) as the file
    (ckpt / "logs").mkdir()  # an empty folder: not part of the dataset
    dest = tmp_path / "out" / "ckpt"
    ds = stager.stage_out(1, "ckpt", "n0", str(dest))
    assert ds.size == 1700 and ds.checksum == checksum_of(str(dest))[0] and ds.checksum.startswith(TREE)
    assert (dest / "latest.pt").read_bytes() == b"w" * 700 and not (dest / "latest.pt").is_symlink()
    assert not list(dest.parent.glob("*~partial-*"))
    cached = caches["n0"].path_of("ckpt")
    assert caches["n0"].has("ckpt") and checksum_of(str(cached))[0] == ds.checksum
    assert not (cached / "latest.pt").is_symlink() and not stager.job_dir("n0", 1).joinpath("ckpt").exists()
    assert {r.location for r in catalog.replicas_of("ckpt")} == {"origin", "n0"}
    assert stager.stage_in(2, ("ckpt",), ["n1"])[0].bytes_copied == 1700  # readable as an input at once
    # a tree pointing out of itself is not sent (a refusal, as a failed copy: the stage-out worker catches it)
    bad = tree(stager.open_job_dir(3, "n0", ()) / "bad", {"a": b"1"})
    (bad / "key").symlink_to(tmp_path / "catalog.json")
    with pytest.raises(StageError, match=r"bad: key is a link to .*, outside the folder"):
        stager.stage_out(3, "bad", "n0", str(tmp_path / "out" / "bad"))
    assert not (tmp_path / "out" / "bad").exists() and not list((tmp_path / "out").glob("bad~partial-*"))
    # a file where the tree goes is refused, as a folder is where a file goes
    tree(stager.open_job_dir(4, "n0", ()) / "two", {"a": b"1"})
    (tmp_path / "out" / "two").write_text("a file")
    with pytest.raises(StageError, match="is a file"):
        stager.stage_out(4, "two", "n0", str(tmp_path / "out" / "two"))


def test_a_stored_copy_of_a_folder_is_checked_by_its_tree_digest(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.json")
    ds = catalog.register_file("shards", str(tree(tmp_path / "a", SHARDS)))
    assert checksum_of(str(tree(tmp_path / "mirror", SHARDS))) == (ds.checksum, ds.size)
    assert checksum_of(str(tree(tmp_path / "stale", {**SHARDS, "meta/index.json": b'{"shards": 3}'})))[0] != ds.checksum
    assert Dataset("x", 1, ds.checksum, "u").checksum.startswith("sha256-tree:")


def test_a_cached_tree_is_walked_once_per_node_when_a_job_is_staged(plane, tmp_path: Path, monkeypatch) -> None:
    """Each look at a tree walks it (an lstat per file, under the controller's lock): a hit was looked at four
    times per node (the pre-pin, stage_one, _stage_one, touch), seconds for a checkpoint of 100k shards."""
    catalog, caches, stager = plane
    catalog.register_file("shards", str(tree(tmp_path / "store" / "shards", SHARDS)))
    stager.stage_in(1, ("shards",), ["n0", "n1"])
    stager.release(1)
    import hal.data.cache

    walked: list[str] = []
    real = hal.data.cache.stamp_of
    monkeypatch.setattr(hal.data.cache, "stamp_of", lambda path: walked.append(path.parent.name) or real(path))
    assert all(s.hit for s in stager.stage_in(2, ("shards",), ["n0", "n1"]))
    assert sorted(walked) == ["n0", "n1"]
    walked.clear()
    assert stager.pin_cached(3, ("shards",), ["n0", "n1"]) and sorted(walked) == ["n0", "n1"]
    assert caches["n0"].pins["shards"] == {2, 3}
    meta = caches["n1"].path_of("shards") / "meta"  # still checked before a job reads it: a changed tree is found
    meta.chmod(0o755)
    (meta / "extra").write_text("x")
    assert not stager.pin_cached(4, ("shards",), ["n0", "n1"]) and 4 not in caches["n0"].pins["shards"]
    got = stager.stage_in(4, ("shards",), ["n0", "n1"])
    assert [s.hit for s in got] == [True, False] and not (caches["n1"].path_of("shards") / "meta" / "extra").exists()


def test_a_folder_output_replaces_the_earlier_tree_without_a_moment_with_none(
    plane, tmp_path: Path, monkeypatch
) -> None:
    """The earlier tree at the destination was deleted before the new one was renamed into place: a server killed
    between the two lost it, with no output there at all. It is moved aside, and deleted once the new one is in."""
    from fsspec.implementations.local import LocalFileSystem

    _, _, stager = plane
    dest = tmp_path / "out" / "ckpt"
    tree(dest, {"model.pt": b"old"})
    stager.catalog.register_file("ckpt", str(dest))  # the earlier run's output (one no dataset names is refused)
    tree(stager.open_job_dir(1, "n0", ()) / "ckpt", {"model.pt": b"new", "opt/state.pt": b"s"})
    real = LocalFileSystem.mv

    def killed(self, path1, path2, **kw):  # the rename of the new tree into place fails
        if "~partial-" in str(path1):
            raise OSError("killed between the two renames")
        return real(self, path1, path2, **kw)

    monkeypatch.setattr(LocalFileSystem, "mv", killed)
    with pytest.raises(OSError, match="killed"):
        stager.stage_out(1, "ckpt", "n0", str(dest))
    assert (dest / "model.pt").read_bytes() == b"old" and sorted(p.name for p in dest.parent.iterdir()) == ["ckpt"]
    monkeypatch.setattr(LocalFileSystem, "mv", real)
    # a server killed there: its earlier tree aside, none in place, a partial copy; the next start's catch-up
    dest.rename(dest.parent / "ckpt~old-99-1")
    tree(dest.parent / "ckpt~partial-99-1", {"model.pt": b"ne"})
    restored: list[str] = []
    monkeypatch.setattr(
        LocalFileSystem, "mv", lambda self, p1, p2, **kw: restored.append(str(p1)) or real(self, p1, p2, **kw)
    )
    ds = stager.stage_out(1, "ckpt", "n0", str(dest))
    assert ds.checksum == checksum_of(str(dest))[0] and (dest / "model.pt").read_bytes() == b"new"
    assert restored[0].endswith("ckpt~old-99-1") and sorted(p.name for p in dest.parent.iterdir()) == ["ckpt"]
    tree(dest.parent / "ckpt~old-99-2", {"model.pt": b"older"})  # killed after the new tree was in place
    tree(stager.open_job_dir(2, "n1", ()) / "ckpt", {"model.pt": b"new", "opt/state.pt": b"s"})
    tree(dest.parent / "ckpt.old-final", {"model.pt": b"another output's"})  # not an aside copy: left alone
    stager.copy_out(2, "ckpt", "n1", str(dest))
    assert (dest / "model.pt").read_bytes() == b"new"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ckpt", "ckpt.old-final"]


def test_a_stale_folder_in_the_cache_is_put_aside_not_deleted_under_the_lock(plane, monkeypatch) -> None:
    """A folder left in the cache where an output is published (no replica names it) was deleted by the stage-out's
    short half, under the controller's lock: seconds for a large tree. It goes to the cache's trash thread."""
    import hal.data.stage_out

    _, caches, stager = plane
    stale = tree(caches["n0"].path_of("ckpt"), {f"old-{i}.pt": b"o" * 10 for i in range(50)})
    deleted: list[Path] = []
    real = hal.data.stage_out.remove_path
    monkeypatch.setattr(hal.data.stage_out, "remove_path", lambda p: deleted.append(p) or real(p))
    tree(stager.open_job_dir(1, "n0", ()) / "ckpt", {"model.pt": b"new"})
    stager.stage_out(1, "ckpt", "n0", str(stale.parent.parent / "out" / "ckpt"))
    assert stale not in deleted and (stale / "model.pt").read_bytes() == b"new"
    assert caches["n0"].trash.wait(10) and not [p for p in stale.parent.iterdir() if p.name.endswith(".trash")]

"""The staging service on real files: two cache directories, fsspec copies, checksums, LRU, retries."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog, CatalogError, Dataset
from hal.data.stager import CHUNK, RetryPolicy, StageCancelled, StageError, Stager


def write(path: Path, size: int, byte: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(byte * size)
    return path


@pytest.fixture
def plane(tmp_path: Path) -> tuple[Catalog, dict[str, NodeCache], Stager, list[float]]:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {n: NodeCache(n, tmp_path / "cache" / n, capacity=10_000) for n in ("n0", "n1")}
    slept: list[float] = []
    stager = Stager(catalog, caches, RetryPolicy(attempts=3, backoff=0.01), sleep=slept.append)
    return catalog, caches, stager, slept


def test_stage_copies_verifies_and_registers(plane, tmp_path: Path) -> None:
    catalog, caches, stager, _ = plane
    src = write(tmp_path / "store" / "genome.fa", 3000, b"A")
    catalog.register_file("genome", f"file://{src}", home="site=onprem")
    got = stager.stage_in(1, ("genome",), ["n1"])
    assert got[0].bytes_copied == 3000 and got[0].source == "site=onprem"
    assert (caches["n1"].root / "genome").read_bytes() == src.read_bytes()
    assert {r.location for r in catalog.replicas_of("genome")} == {"site=onprem", "n1"}
    assert stager.stage_in(2, ("genome",), ["n1"])[0].hit  # second time: a cache hit
    again = Catalog(tmp_path / "catalog.json")  # the catalog survives a restart
    assert {r.location for r in again.replicas_of("genome")} == {"site=onprem", "n1"}
    got = stager.env(["n1", "n0"], 7)  # the batch script's node first; srun gives each task its own node's
    assert got["HAL_DATA"] == str(caches["n1"].root / ".jobs" / "7")
    assert json.loads(got["HAL_DATA_NODES"])["n0"] == str(caches["n0"].root / ".jobs" / "7")


def test_lru_eviction_under_capacity_pressure(plane, tmp_path: Path) -> None:
    catalog, caches, stager, _ = plane
    for name in ("a", "b", "c"):
        catalog.register_file(name, str(write(tmp_path / "store" / name, 4000)))
    stager.stage_in(1, ("a",), ["n0"])
    stager.stage_in(1, ("b",), ["n0"])
    stager.release(1)
    stager.stage_in(2, ("a",), ["n0"])  # a is now the most recently used
    stager.stage_in(3, ("c",), ["n0"])  # 12,000 > 10,000: b goes, a (pinned and recent) stays
    assert set(caches["n0"].entries) == {"a", "c"}
    assert "n0" not in {r.location for r in catalog.replicas_of("b")}
    assert caches["n0"].used() <= caches["n0"].capacity


def test_missing_source_fails_clearly_after_retries(plane, tmp_path: Path) -> None:
    catalog, _, stager, slept = plane
    catalog.register(Dataset("ghost", 10, "sha256:" + "0" * 64, str(tmp_path / "nowhere" / "ghost")))
    with pytest.raises(StageError) as err:
        stager.stage_in(1, ("ghost",), ["n0"])
    assert err.value.attempts == 3 and len(slept) == 2
    assert "source missing" in str(err.value) and "after 3 attempt(s)" in str(err.value)


def test_checksum_mismatch_is_never_cached(plane, tmp_path: Path) -> None:
    catalog, caches, stager, _ = plane
    src = write(tmp_path / "store" / "model.bin", 100)
    catalog.register_file("model", str(src))
    src.write_bytes(b"y" * 100)  # corrupted after registration
    with pytest.raises(StageError, match="checksum mismatch"):
        stager.stage_in(1, ("model",), ["n0"])
    assert not caches["n0"].has("model") and not list(caches["n0"].root.iterdir())


def test_retry_succeeds_when_the_source_comes_back(plane, tmp_path: Path) -> None:
    catalog, _, _, _ = plane
    src = write(tmp_path / "store" / "late", 50)
    catalog.register_file("late", str(src))
    data = src.read_bytes()
    src.unlink()

    def come_back(_: float) -> None:
        src.write_bytes(data)

    stager = Stager(catalog, plane[1], RetryPolicy(attempts=2, backoff=0.0), sleep=come_back)
    assert stager.stage_in(1, ("late",), ["n0"])[0].attempts == 2


def test_stage_out_registers_the_output(plane, tmp_path: Path) -> None:
    catalog, caches, stager, _ = plane
    write(stager.open_job_dir(1, "n0", ()) / "result", 77)
    stale = write(tmp_path / "out" / "result~partial-99-1", 10)  # a copy a killed server left at the destination
    ds = stager.stage_out(1, "result", "n0", str(tmp_path / "out" / "result"))
    assert ds.size == 77 and (tmp_path / "out" / "result").exists()
    assert {r.location for r in catalog.replicas_of("result")} == {"origin", "n0"}
    assert caches["n0"].has("result") and not (stager.job_dir("n0", 1) / "result").exists()  # moved into the cache
    assert not stale.exists()
    # an output larger than the node cache is staged out but not kept there (it overflowed the capacity)
    write(stager.open_job_dir(2, "n0", ()) / "huge", 25_000)
    big = stager.stage_out(2, "huge", "n0", str(tmp_path / "out" / "huge"))
    assert big.size == 25_000 and (tmp_path / "out" / "huge").stat().st_size == 25_000
    assert {r.location for r in catalog.replicas_of("huge")} == {"origin"} and not caches["n0"].has("huge")
    assert not (caches["n0"].root / "huge").exists() and caches["n0"].used() <= caches["n0"].capacity
    with pytest.raises(StageError, match="staging 'gone' out from n0 failed"):
        stager.stage_out(3, "gone", "n0", str(tmp_path / "out" / "gone"))
    # a folder where the output goes: the copy was moved into it and reported done, naming no file (QA)
    write(stager.open_job_dir(4, "n0", ()) / "res", 7)
    (tmp_path / "out" / "res").mkdir()
    with pytest.raises(StageError, match="is a folder"):
        stager.stage_out(4, "res", "n0", str(tmp_path / "out" / "res"))
    assert list((tmp_path / "out" / "res").iterdir()) == []


def test_a_catalog_that_cannot_be_used_is_named_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        Catalog(tmp_path / "no" / "catalog.json")
    bad = tmp_path / "catalog.json"
    for text in ("not json", '{"datasets": [{"name": 1}]}', "[1, 2]"):
        bad.write_text(text)
        with pytest.raises(CatalogError, match="is not a HAL catalog"):
            Catalog(bad)


def test_a_cached_file_changed_behind_hals_back_is_staged_again(plane, tmp_path: Path) -> None:
    """A job may write into $HAL_DATA: the next job must get the dataset, not what was left there."""
    catalog, caches, stager, _ = plane
    catalog.register_file("a", str(write(tmp_path / "src" / "a", 1000)))
    stager.stage_one(1, "a", "n0")
    stager.release(1)
    cached = caches["n0"].path_of("a")
    cached.write_bytes(b"GARBAGE" + b"x" * 993)  # same size, new contents (and mtime)
    os.utime(cached, ns=(cached.stat().st_atime_ns, cached.stat().st_mtime_ns + 1))
    assert not caches["n0"].has("a")
    got = stager.stage_one(2, "a", "n0")
    assert got.source != "" and cached.read_bytes() == b"x" * 1000  # copied again from the source


def test_a_restarted_cache_forgets_partial_copies(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "n0"
    write(root / ".a.123.partial", 500)
    write(root / "b", 100)
    cache = NodeCache("n0", root, capacity=10_000)
    assert not (root / ".a.123.partial").exists() and cache.used() == 100 and cache.has("b")


def test_a_file_output_is_registered_with_the_digest_of_the_bytes_sent(plane, tmp_path: Path, monkeypatch) -> None:
    """It is read once, hashed as it is copied: it was hashed whole first, then read again to send, and a file
    still growing was registered with a checksum its copies never had (every stage-in from it then failed)."""
    _, caches, stager, _ = plane
    monkeypatch.setattr("hal.data.stager.CHUNK", 100)
    out = write(stager.open_job_dir(1, "n0", ()) / "log", 300)
    real, calls = stager._check_stop, []

    def growing(job_id: int) -> None:  # between the first and second chunk sent, the job's file grows
        calls.append(job_id)
        if len(calls) == 1:
            with out.open("ab") as fh:
                fh.write(b"y" * 50)
        real(job_id)

    monkeypatch.setattr(stager, "_check_stop", growing)
    ds = stager.stage_out(1, "log", "n0", str(tmp_path / "out" / "log"))
    sent = (tmp_path / "out" / "log").read_bytes()
    assert sent == b"x" * 300 + b"y" * 50 and ds.size == 350
    assert ds.checksum == "sha256:" + hashlib.sha256(sent).hexdigest()
    assert caches["n0"].path_of("log").read_bytes() == sent


def test_a_cancelled_jobs_copy_stops_between_chunks(plane, tmp_path: Path) -> None:
    catalog, caches, stager, _ = plane
    caches["n0"].capacity = 1 << 30
    catalog.register_file("big", str(write(tmp_path / "src" / "big", 3 * CHUNK)))
    asked: list[int] = []
    stager.stopping = lambda job_id: asked.append(job_id) or len(asked) > 1  # cancelled after the first chunk
    with pytest.raises(StageCancelled, match="job 4 was cancelled"):
        stager.stage_one(4, "big", "n0")
    assert asked == [4, 4] and not caches["n0"].has("big") and not list(caches["n0"].root.iterdir())


def test_room_made_for_a_copy_is_held_until_it_lands(tmp_path: Path) -> None:
    """Two stage-ins at once into one node cache both found the same free bytes and overfilled it; the room
    made for a copy is now held for it, so the second waits (CacheFull, pinned: room comes back)."""
    from hal.data.cache import CacheFull

    cache = NodeCache("n0", tmp_path / "c", capacity=1000)
    cache.make_room(600, reserve="a")
    with pytest.raises(CacheFull) as info:
        cache.make_room(600, reserve="b")
    assert info.value.pinned and cache.used() == 600
    cache.unreserve("a")  # the first copy failed: its room is free again
    cache.make_room(600, reserve="b")
    write(cache.root / "b", 600)
    cache.add("b", 600)
    assert cache.used() == 600 and not cache.reserved


def test_a_job_sees_only_its_inputs_read_only_and_its_own_files(plane, tmp_path: Path) -> None:
    """$HAL_DATA is the job's folder: links to its own inputs (read-only copies shared with other jobs),
    and what it writes stays there until a stage-out publishes it, or goes when it ends."""
    catalog, caches, stager, _ = plane
    for name in ("a", "b"):
        catalog.register_file(name, f"file://{write(tmp_path / 'store' / name, 500)}", home="origin")
    stager.stage_in(1, ("a", "b"), ["n0"])
    folder = stager.open_job_dir(1, "n0", ("a",))
    assert sorted(p.name for p in folder.iterdir()) == ["a"]  # not b, which another job staged
    assert (folder / "a").read_bytes() == (caches["n0"].root / "a").read_bytes()
    assert (folder / "a").stat().st_ino == caches["n0"].path_of("a").stat().st_ino  # a link, not a copy
    assert caches["n0"].path_of("a").stat().st_mode & 0o777 == 0o444
    (folder / "out").write_text("mine")
    (folder / "scratch").mkdir()
    stager.close_job_dir("n0", 1, keep=("out",))
    assert sorted(p.name for p in folder.iterdir()) == ["out"] and caches["n0"].has("a")
    stager.close_job_dir("n0", 1)
    assert not folder.exists() and caches["n0"].has("a")  # the job's link went, the cached copy stays
    assert stager.open_job_dir(1, "n0", ()).is_dir() and not list(stager.job_dir("n0", 1).iterdir())  # fresh


def test_storage_that_never_answers_fails_the_attempt_and_a_cancel_returns_at_once(plane, tmp_path: Path) -> None:
    """A source whose open never returns (a FIFO here, a hung mount in life): the copy waited forever, holding
    the job's nodes and its cache room, and kept the server from stopping."""
    import os
    import threading
    import time

    catalog, caches, stager, _ = plane
    src = write(tmp_path / "store" / "hang", 1000)
    catalog.register_file("hang", f"file://{src}", home="origin")
    src.unlink()
    os.mkfifo(src)
    stager.policy = RetryPolicy(attempts=1)
    stager.stall_timeout = 0.5
    t0 = time.monotonic()
    with pytest.raises(StageError, match=r"no data for 0\.5 s"):
        stager.stage_in(1, ("hang",), ["n0"])
    assert time.monotonic() - t0 < 5 and caches["n0"].used() == 0  # its reserved room is free again
    with pytest.raises(StageError, match="an earlier read of this source"):  # no second thread stuck beside it
        stager.stage_in(1, ("hang",), ["n0"])
    with open(src, "wb"):  # the storage answers: the stuck reader returns and the source may be read again
        pass
    time.sleep(0.5)
    src.unlink()
    os.mkfifo(src)
    stager.stall_timeout = 600.0
    stop = threading.Event()
    stager.stopping = lambda job_id: stop.is_set()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(StageCancelled):  # the attempt ends, whatever the read is doing
        stager.stage_in(2, ("hang",), ["n0"])
    assert time.monotonic() - t0 < 5 and caches["n0"].used() == 0
    with open(src, "wb"):  # let the abandoned readers go
        pass


def test_a_cache_folder_wiped_while_the_server_runs_is_made_again(plane, tmp_path: Path) -> None:
    """Every stage-in to the node failed, blaming the source ('source missing') that was there all along."""
    import shutil

    catalog, caches, stager, _ = plane
    catalog.register_file("a", str(write(tmp_path / "src" / "a", 1000)))
    shutil.rmtree(caches["n0"].root)
    got = stager.stage_one(1, "a", "n0")
    assert got.bytes_copied == 1000 and caches["n0"].path_of("a").read_bytes() == b"x" * 1000


def test_two_jobs_wanting_one_dataset_on_one_node_share_one_copy(plane, tmp_path: Path) -> None:
    """Each made its own copy at once (.a.2.partial and .a.3.partial): on disk twice, counted once (QA)."""
    import threading
    import time

    catalog, caches, stager, _ = plane
    catalog.register_file("a", str(write(tmp_path / "src" / "a", 1000)))
    real, calls = stager._watched_copy, []

    def slow(uri: str, tmp: Path, job_id: int) -> tuple[str, int]:
        calls.append(job_id)
        time.sleep(0.3)
        return real(uri, tmp, job_id)

    stager._watched_copy = slow  # type: ignore[method-assign]
    got = {}
    threads = [threading.Thread(target=lambda j=j: got.update({j: stager.stage_one(j, "a", "n0")})) for j in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and sorted(g.bytes_copied for g in got.values()) == [0, 1000]
    assert caches["n0"].pins["a"] == {1, 2}  # both jobs hold it


def test_a_copy_found_at_start_is_checked_once_before_it_is_served(tmp_path: Path) -> None:
    """A cached copy changed while no server ran (same size, mtime put back) was served as good (QA)."""
    catalog = Catalog(tmp_path / "catalog.json")
    catalog.register_file("a", str(write(tmp_path / "src" / "a", 1000)))
    catalog.register_file("b", str(write(tmp_path / "src" / "b", 1000, b"y")))
    write(tmp_path / "cache" / "n0" / "a", 1000, b"z")  # rotten, as found after a restart
    write(tmp_path / "cache" / "n0" / "b", 1000, b"y")  # good
    cache = NodeCache("n0", tmp_path / "cache" / "n0", capacity=10_000)
    assert cache.has("a") and cache.unverified == {"a", "b"}
    stager = Stager(catalog, {"n0": cache}, RetryPolicy(attempts=1))
    assert stager.stage_one(1, "a", "n0").bytes_copied == 1000 and cache.path_of("a").read_bytes() == b"x" * 1000
    assert stager.stage_one(1, "b", "n0").bytes_copied == 0  # checked and found good: a hit
    assert cache.unverified == set()

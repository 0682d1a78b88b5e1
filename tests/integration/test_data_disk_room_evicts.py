"""QA: a node cache on a disk smaller than its cache_bytes kept an ended job's dataset ``a`` (unpinned) when a job
needing ``b`` (which fits the disk alone, not beside ``a``) was sent there: eviction counted only cache_bytes, so
``a`` stayed, the copy hit ENOSPC mid-copy, the node was drained ("data cache unusable") and the job held. Now a
copy first evicts least recently used unpinned datasets until the disk's real free bytes hold it, and a disk that
fills mid-copy (another writer on it) while evicting could free it evicts and copies again, draining nothing.

A real small filesystem: vn000's cache is an 8M tmpfs in a private mount namespace (``unshare``), where the
scenario runs as a child process with a real controller, local executor and catalog; skipped where unprivileged
namespaces are not allowed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from hal.controller.directives import build_request
from hal.data.cache import CacheFull, CacheWriteError, NodeCache
from hal.data.catalog import Catalog, Dataset
from hal.data.stager import RetryPolicy, Stager
from tests.clusters import switch_tree
from tests.integration.small_tmpfs import Run, data_controller, result, small_tmpfs
from tests.integration.test_data_drain_limits import _wait

MIB = 2**20
DATA = {"cache_bytes": "16M", "attempts": 1, "backoff": 0.01, "max_requeues": 0, "requeue_wait": 0.1}


@pytest.fixture
def namespaced(tmp_path: Path) -> Run:
    return small_tmpfs(__file__, tmp_path, "vn000")


def test_an_unused_dataset_is_evicted_for_a_copy_the_disk_holds_only_without_it(namespaced: Any) -> None:
    got = result(namespaced("live"))
    first, second = got["first"], got["second"]
    assert first["state"] == "COMPLETED", first
    assert second["state"] == "COMPLETED" and second["restarts"] == 0, second  # no failed attempt, no hold
    assert not got["drained"], got  # the node is not blamed for a full disk eviction fixed
    assert got["entries"] == ["b"] and got["files"] == ["b"], got  # ``a`` evicted (least recently used, unpinned)
    assert got["replicas"] == {"a": ["origin"], "b": ["origin", "vn000"]}, got  # the catalog forgets it there
    # no cause of a failed stage-in, drain or hold lingers on the job once it ran
    assert not any(w in str(second["cause"]) for w in ("stage-in", "drained", "held", "No space")), second


def test_a_disk_filled_mid_copy_evicts_and_copies_again(namespaced: Any) -> None:
    got = result(namespaced("midcopy"))
    assert got["error"] == "", got  # no CacheWriteError: the node would have been drained
    assert got["scratch"] == 3 * MIB // 2, got  # the other writer's file is there: the disk really filled
    assert got["entries"] == ["b"] and got["files"] == [".jobs", "b"], got
    assert got["staged"]["attempts"] == 1 and got["staged"]["bytes"] == 5 * MIB, got


def test_a_disk_whose_room_copies_under_way_hold_is_waited_for_not_blamed(namespaced: Any) -> None:
    """QA: a copy refused because another copy under way held the disk's room (nothing to evict) was an ENOSPC of
    the node's own, and the node was drained; it is CacheFull to wait for, as for datasets pinned by running jobs.
    A copy the disk could not hold even without them stays a fault of the disk."""
    got = result(namespaced("busy"))
    assert got["beside"] == ["CacheFull", True], got
    assert got["too_big"] == ["CacheWriteError", False], got


# ---- the scenarios, run inside the namespace ------------------------------------------------------------------


def _live(tmp: Path) -> dict[str, Any]:
    """Job 1 reads ``a`` (5M) and ends; job 2 reads ``b`` (5M) on the same 8M disk (cache_bytes 16M)."""
    (tmp / "c.toml").write_text(switch_tree("one", "vn", 1, 2, "1G", 1))
    ctl, staging = data_controller(tmp, DATA, {"a": 5 * MIB, "b": 5 * MIB})
    ctl.start()
    rows = []
    try:
        for name in ("a", "b"):
            req = build_request("#!/bin/sh\ntrue\n", {"input-data": name}, {}, str(tmp), 0)
            (job,) = ctl.submit(req, "al").job_ids
            _wait(lambda job=job: (ctl.store.get(job) or {}).get("state") in ("COMPLETED", "FAILED"), 30.0)
            _wait(lambda job=job: job not in ctl.live and not ctl.live)
            rows.append(ctl.store.get(job) or {})
        cache = staging.stager.caches["vn000"]
        entries, files = list(cache.entries), sorted(p.name for p in cache.root.iterdir() if p.name[0] != ".")
        replicas = {n: sorted(r) for n, r in staging.stager.catalog.replicas.items()}
        drained = sorted(ctl.drained)
    finally:
        ctl.stop()
        staging.shutdown()
    first, second = ({k: row.get(k) for k in ("state", "restarts", "cause")} for row in rows)
    return {"first": first, "second": second, "drained": drained, "entries": entries, "files": files,
            "replicas": replicas}  # fmt: skip


def _mid_copy(tmp: Path) -> dict[str, Any]:
    """``a`` (2M) cached and unpinned; ``b`` (5M) fits the 6M free, but once its first chunk (4M) is written another
    writer (a running job's scratch in its $HAL_DATA) takes 1.5M of the disk."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    root = tmp / "cache" / "vn000"
    scratch = root / ".jobs" / "7" / "scratch"

    class Filling(LocalFileSystem):  # type: ignore[misc]
        protocol = "halfill"

        @classmethod
        def _strip_protocol(cls, path: str) -> str:
            return str(super()._strip_protocol(str(path).removeprefix("halfill://")))

        def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
            inner = super()._open(path, mode, *args, **kwargs)
            read = inner.read

            def filling(size: int = -1) -> bytes:
                if inner.tell() > 0 and not scratch.exists():  # the first chunk is in the cache copy by now
                    scratch.parent.mkdir(parents=True)
                    scratch.write_bytes(b"s" * (3 * MIB // 2))
                return bytes(read(size))

            inner.read = filling
            return inner

    fsspec.register_implementation("halfill", Filling, clobber=True)
    store = tmp / "store"
    store.mkdir()
    catalog = Catalog(tmp / "cat.json")
    (store / "a").write_bytes(os.urandom(2 * MIB))
    (store / "b").write_bytes(os.urandom(5 * MIB))
    catalog.register_file("a", str(store / "a"))
    b = catalog.register_file("b", str(store / "b"))
    catalog.register(Dataset("b", b.size, b.checksum, f"halfill://{store / 'b'}"))
    stager = Stager(catalog, {"vn000": NodeCache("vn000", root, 16 * MIB)}, RetryPolicy(attempts=1, backoff=0.01))
    stager.stage_in(1, ("a",), ["vn000"])
    stager.release(1)
    error, staged = "", {}
    try:
        (got,) = stager.stage_in(2, ("b",), ["vn000"])
        staged = {"attempts": got.attempts, "bytes": got.bytes_copied}
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    cache = stager.caches["vn000"]
    return {"error": error, "staged": staged, "entries": list(cache.entries),
            "files": sorted(p.name for p in root.iterdir()), "scratch": scratch.stat().st_size}  # fmt: skip


def _busy(tmp: Path) -> dict[str, Any]:
    """A copy of 6M under way (reserved, nothing written yet) on the 8M disk; then copies of 5M and of 9M."""
    cache = NodeCache("vn000", tmp / "cache" / "vn000", 16 * MIB)
    cache.make_room(6 * MIB, reserve="x")
    out: dict[str, Any] = {}
    for key, size in (("beside", 5 * MIB), ("too_big", 9 * MIB)):
        try:
            cache.make_room(size, reserve=key)
            out[key] = ["none", False]
        except (CacheFull, CacheWriteError) as exc:
            out[key] = [type(exc).__name__, bool(getattr(exc, "pinned", False))]
    return out


if __name__ == "__main__":
    if sys.argv[2] == "probe":
        sys.exit(0)
    scenario = {"live": _live, "midcopy": _mid_copy, "busy": _busy}[sys.argv[2]]
    print(json.dumps(scenario(Path(sys.argv[1]))))

"""Room for a copy is made only when it fits, never out of the job's own inputs; copies come from the nearest node."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.data.cache import CacheFull, NodeCache
from hal.data.catalog import Catalog, Replica
from hal.data.stager import RetryPolicy, StageError, Stager


def write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_a_copy_that_cannot_fit_evicts_nothing(tmp_path: Path) -> None:
    """QA: a 700 MB input beside a pinned 800 MB one first evicted every unpinned dataset, then waited anyway."""
    cache = NodeCache("n0", tmp_path / "n0", capacity=10_000)
    for name, size in (("d", 2000), ("f", 7000)):
        write(cache.path_of(name), size)
        cache.add(name, size)
    cache.pin("f", 1)
    with pytest.raises(CacheFull, match="pinned by jobs"):
        cache.make_room(8000)
    assert set(cache.entries) == {"d", "f"} and cache.path_of("d").exists()
    assert cache.make_room(2500) == ["d"]  # one that fits still evicts what it needs


def test_a_jobs_own_cached_input_is_not_evicted_to_copy_its_other_input(tmp_path: Path) -> None:
    """QA: a job reading a30 and c40 on a node holding c40 (and a pinned e60) evicted c40 to copy a30, then
    could not copy c40 back and waited; c40 was copied again later."""
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {"n0": NodeCache("n0", tmp_path / "cache" / "n0", capacity=10_000)}
    stager = Stager(catalog, caches, RetryPolicy(attempts=1, backoff=0.0), sleep=lambda _: None)
    for name, size in (("a", 3000), ("c", 4000), ("e", 6000)):
        catalog.register_file(name, str(write(tmp_path / "store" / name, size)))
    stager.stage_in(1, ("e",), ["n0"])  # job 1 runs, reading e
    stager.stage_in(2, ("c",), ["n0"])
    stager.release(2)  # c is cached, unpinned; e is pinned: 10,000 of 10,000 used
    with pytest.raises(StageError, match="pinned by jobs"):
        stager.stage_in(3, ("a", "c"), ["n0"])
    assert set(caches["n0"].entries) == {"c", "e"}  # c stays for when job 1 ends
    assert "n0" in {r.location for r in catalog.replicas_of("c")}
    stager.release(3)
    stager.release(1)
    got = stager.stage_in(3, ("a", "c"), ["n0"])  # e unpinned now: it goes, c is a hit
    assert [s.hit for s in got] == [False, True] and set(caches["n0"].entries) == {"a", "c"}


def test_copies_come_from_the_nearest_node_then_storage_then_the_origin() -> None:
    """QA: a copy onto vn003 (rack 1) read vn001 (rack 0) beside vn002 (rack 1), by name; placement priced the
    same-rack copy."""
    from hal.data.sources import nearest_first
    from hal.model.topology import Topology

    names = ["vn000", "vn001", "vn002", "vn003"]
    topo = Topology(("rack",), (("r0",), ("r0",), ("r1",), ("r1",)))
    reps = [Replica("d", loc, "") for loc in ("origin", "site=onprem", "vn001", "vn002")]
    assert [r.location for r in nearest_first(topo, names)(reps, "vn003")] == [
        "vn002", "vn001", "site=onprem", "origin"
    ]  # fmt: skip
    assert [r.location for r in nearest_first(topo, names)(reps, "vn000")][:2] == ["vn001", "vn002"]


def test_a_cache_over_a_capacity_made_smaller_is_trimmed_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: after cache_bytes shrank across a restart a cache stayed over its limit (840M of 100M), with no word."""
    from hal.data.restart import _trim

    catalog = Catalog(tmp_path / "catalog.json")
    shrunk = NodeCache("n0", tmp_path / "n0", capacity=10_000)  # restarted with a smaller cache_bytes
    for name in ("old", "mid", "new"):  # least recently used first
        catalog.register_file(name, str(write(tmp_path / "store" / name, 6000)))
        write(shrunk.path_of(name), 6000)
        shrunk.add(name, 6000)
        catalog.add_replica(Replica(name, "n0", str(shrunk.path_of(name))))
    shrunk.pin("mid", 7)  # a running job reads it
    stager = Stager(catalog, {"n0": shrunk}, RetryPolicy(attempts=1, backoff=0.0), sleep=lambda _: None)
    assert _trim(stager, "n0", shrunk) == 2 and set(shrunk.entries) == {"mid"}  # the pinned one stays
    assert not shrunk.path_of("old").exists() and "n0" not in {r.location for r in catalog.replicas_of("old")}
    assert "held 8000 bytes over its capacity of 10000" in caplog.text and "evicted old, new" in caplog.text


def test_a_copy_in_the_nodes_own_site_comes_before_one_across_the_wan() -> None:
    """QA: an on-premises job read a cloud node's cache (every cache came before any storage copy), and storage
    copies were tried by name (tier1=cloud before tier1=onprem), paying egress the score never priced."""
    from hal.data.sources import nearest_first
    from hal.model.topology import Topology

    names = ["n000", "n001", "n002", "n003"]
    topo = Topology(("site", "rack"), (("onprem", "r0"), ("onprem", "r1"), ("cloud", "c0"), ("cloud", "c0")))
    reps = [Replica("d", loc, "") for loc in ("origin", "n003", "site=onprem", "site=cloud", "rack=r1", "mirror")]
    order = nearest_first(topo, names)
    assert [r.location for r in order(reps, "n001")] == [
        "rack=r1", "site=onprem", "n003", "site=cloud", "mirror", "origin"
    ]  # fmt: skip
    assert [r.location for r in order(reps, "n002")][:3] == ["n003", "site=cloud", "rack=r1"]

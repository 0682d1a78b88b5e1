"""Stale replicas and a catalog that cannot be saved (QA, issue 6), on real files and caches."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from pathlib import Path

import pytest

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog, CatalogError, CatalogSaveError, Dataset, Replica
from hal.data.stager import RetryPolicy, Stager


def _plane(tmp_path: Path) -> tuple[Catalog, dict[str, NodeCache], Stager]:
    catalog = Catalog(tmp_path / "catalog.json")
    caches = {n: NodeCache(n, tmp_path / "cache" / n, capacity=10_000) for n in ("n0", "n1")}
    return catalog, caches, Stager(catalog, caches, RetryPolicy(attempts=2, backoff=0.01), sleep=lambda s: None)


def _dataset(catalog: Catalog, tmp_path: Path, name: str = "d", size: int = 1000) -> Path:
    src = tmp_path / "store" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"a" * size)
    catalog.register_file(name, str(src))
    return src


def _locations(catalog: Catalog, name: str) -> set[str]:
    return {r.location for r in catalog.replicas_of(name)}


def test_a_cached_copy_found_deleted_leaves_the_catalog_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """NodeCache.has() forgot a deleted copy but the catalog kept its replica: placement favoured that node and
    other nodes tried it first ("source missing")."""
    catalog, caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    stager.stage_in(1, ("d",), ["n0"])
    assert _locations(catalog, "d") == {"origin", "n0"}
    caches["n0"].path_of("d").unlink()
    with caplog.at_level(logging.WARNING, "hal.data"):
        assert not caches["n0"].has("d")
    assert _locations(catalog, "d") == {"origin"}
    assert "n0" not in _locations(Catalog(tmp_path / "catalog.json"), "d")  # saved
    assert "the cached copy of 'd' on n0 was deleted" in caplog.text


def test_a_bad_copy_on_another_node_is_dropped_and_the_origin_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checksum mismatch reading another node's cached copy was skipped silently and the replica kept."""
    catalog, caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    stager.stage_in(1, ("d",), ["n0"])
    bad = caches["n0"].path_of("d")
    os.chmod(bad, 0o644)
    bad.write_bytes(b"b" * 1000)  # same size: only the checksum tells
    with caplog.at_level(logging.WARNING, "hal.data"):
        (got,) = stager.stage_in(2, ("d",), ["n1"])
    assert got.source == "origin" and caches["n1"].path_of("d").read_bytes() == b"a" * 1000
    assert _locations(catalog, "d") == {"origin", "n1"}
    assert "d" not in caches["n0"].entries and not bad.exists()
    assert "replica of 'd' on n0 is unusable (checksum mismatch" in caplog.text


def test_a_missing_copy_on_another_node_is_dropped(tmp_path: Path) -> None:
    catalog, caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    stager.stage_in(1, ("d",), ["n0"])
    caches["n0"].path_of("d").unlink()  # n0's cache is not asked: n1 reads the replica's file directly
    (got,) = stager.stage_in(2, ("d",), ["n1"])
    assert got.source == "origin" and _locations(catalog, "d") == {"origin", "n1"}
    (again,) = stager.stage_in(3, ("d",), ["n1"])
    assert again.hit


def test_a_catalog_save_that_fails_changes_nothing(tmp_path: Path) -> None:
    catalog, _, _ = _plane(tmp_path)
    _dataset(catalog, tmp_path, "kept")
    path = tmp_path / "catalog.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a URI may carry credentials
    before = path.read_text()
    (tmp_path / "catalog.tmp").mkdir()  # the save's temporary file cannot be written
    with pytest.raises(CatalogSaveError, match=f"cannot save the catalog {path}: Is a directory"):
        catalog.register(Dataset("new", 1, "sha256:" + "0" * 64, "/x/new"))
    with pytest.raises(CatalogSaveError):
        catalog.add_replica(Replica("kept", "site=onprem", "/y/kept"))
    with pytest.raises(CatalogSaveError):
        catalog.remove_replica("kept", "origin")
    with pytest.raises(CatalogSaveError):
        catalog.forget("kept")
    assert list(catalog.datasets) == ["kept"] and _locations(catalog, "kept") == {"origin"}
    assert path.read_text() == before
    (tmp_path / "catalog.tmp").rmdir()
    catalog.register(Dataset("new", 1, "sha256:" + "0" * 64, "/x/new"))
    assert sorted(Catalog(path).datasets) == ["kept", "new"]


def test_an_old_world_readable_catalog_is_saved_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"datasets": [], "replicas": []}')
    path.chmod(0o644)
    (tmp_path / "catalog.tmp").write_text("left by an older server")
    (tmp_path / "catalog.tmp").chmod(0o644)
    catalog = Catalog(path)
    catalog.register(Dataset("s3", 1, "sha256:" + "0" * 64, "s3://key:secret@bucket/x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_stage_in_whose_replica_cannot_be_recorded_still_succeeds_and_blames_no_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The copy landed and was verified; only the catalog's note of it failed: it used to count as the source's
    failure ("attempt 1 from origin: ...") and fail the stage-in."""
    catalog, caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    (tmp_path / "catalog.tmp").mkdir()
    with caplog.at_level(logging.WARNING, "hal.data"):
        (got,) = stager.stage_in(1, ("d",), ["n0"])
    assert got.source == "origin" and caches["n0"].has("d")
    assert _locations(catalog, "d") == {"origin"}
    assert "the copy of 'd' on n0: not recorded: cannot save the catalog" in caplog.text


SUM = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        ([{"name": "d", "size": "big", "checksum": "sha256:00", "uri": "/x"}], "size is a whole number of bytes"),
        ([{"name": "d", "size": 1, "checksum": "md5:00", "uri": "/x"}], "checksum is 'sha256:<64 hex digits>'"),
        ([{"name": "d", "size": 1, "checksum": SUM, "uri": "/x"}] * 2, "dataset 'd' is listed twice"),
        ([{"name": "d", "size": 1, "checksum": "sha256:00", "uri": "/x"}], "not 'sha256:00'"),  # truncated (QA)
        ([{"name": "../x", "size": 1, "checksum": SUM, "uri": "/etc/passwd"}], "'../x': a dataset name is"),
    ],
)
def test_a_catalog_with_a_bad_entry_is_refused_naming_the_file(
    tmp_path: Path, entries: list[dict[str, object]], said: str
) -> None:
    """QA: a duplicated entry replaced the first silently; "size": "big" failed later without naming the file."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"datasets": entries, "replicas": []}))
    with pytest.raises(CatalogError, match=rf"catalog {re.escape(str(path))} .*{re.escape(said)}"):
        Catalog(path)


def test_a_stored_copy_that_changed_is_forgotten_and_its_file_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: a copy registered with hal dataset add-copy, changed on disk afterwards, stayed registered; every
    stage-in read it first, failed its checksum and fell back to the origin."""
    catalog, _caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    mirror = tmp_path / "mirror" / "d"
    mirror.parent.mkdir()
    mirror.write_bytes(b"b" * 1000)  # not the dataset any more
    catalog.add_replica(Replica("d", "site=mirror", str(mirror)))
    with caplog.at_level(logging.WARNING, "hal.data"):
        staged = stager.stage_in(1, ("d",), ["n0"])
    assert [s.source for s in staged] == ["origin"]
    assert "site=mirror" not in _locations(Catalog(tmp_path / "catalog.json"), "d") and mirror.exists()
    assert "stored copy of 'd' at site=mirror" in caplog.text and "hal dataset add-copy" in caplog.text


def test_a_stored_copy_found_deleted_is_forgotten(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """QA: it stayed registered after every stage-in fell back to the origin without a word, placement priced
    jobs as if they read it, and `hal dataset rm-copy d --location origin` was then accepted."""
    catalog, _caches, stager = _plane(tmp_path)
    _dataset(catalog, tmp_path)
    mirror = tmp_path / "mirror" / "d"
    mirror.parent.mkdir()
    mirror.write_bytes(b"a" * 1000)
    catalog.add_replica(Replica("d", "rack=r2", str(mirror)))
    mirror.unlink()
    with caplog.at_level(logging.WARNING, "hal.data"):
        staged = stager.stage_in(1, ("d",), ["n0"])
    assert [s.source for s in staged] == ["origin"]
    assert "rack=r2" not in _locations(Catalog(tmp_path / "catalog.json"), "d")
    assert "stored copy of 'd' at rack=r2" in caplog.text and "source missing" in caplog.text

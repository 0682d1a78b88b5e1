"""The overwrite guard looks a destination up in the catalog's index by address (``hal.data.spots``): resolving
every dataset's and replica's address on every stage-out cost 0.75 s of CPU per output at 10,000 datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
import pytest

from hal.data.catalog import Catalog, CatalogSaveError, Dataset, Replica
from hal.data.destination import claimed_by

SUM = "sha256:" + "0" * 64


def _catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.json")
    catalog.register(Dataset("x", 1, SUM, f"{tmp_path}/a/x"))
    return catalog


def test_the_destination_its_folders_and_what_lies_beneath_it(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    assert "is a registered copy of dataset 'x'" in claimed_by(catalog, "out", f"{tmp_path}/a/x", ())
    assert "holds a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/a", ())
    assert "is inside a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/a/x/y", ())
    assert claimed_by(catalog, "out", f"{tmp_path}/a/xy", ()) == ""  # a sibling whose name starts the same
    assert claimed_by(catalog, "x", f"{tmp_path}/a/x", ()) == ""  # its own copy
    (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")  # through a link: the same place
    assert "is a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/link/x", ())


def test_the_index_follows_every_change(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    assert claimed_by(catalog, "out", f"{tmp_path}/c", ()) == ""  # the index is built here
    catalog.add_replica(Replica("x", "site=onprem", f"{tmp_path}/c"))
    assert "is a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/c", ())
    catalog.add_replica(Replica("x", "vn000", f"{tmp_path}/cache/x"))  # a node cache's copy: not storage
    assert claimed_by(catalog, "out", f"{tmp_path}/cache/x", ("vn000",)) == ""
    catalog.remove_replica("x", "site=onprem")
    assert claimed_by(catalog, "out", f"{tmp_path}/c", ()) == ""
    catalog.register(Dataset("x", 1, SUM, f"{tmp_path}/d/x"))  # registered again elsewhere: the old place is free
    assert claimed_by(catalog, "out", f"{tmp_path}/a/x", ()) == ""
    assert "is a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/d/x", ())
    catalog.forget("x")
    assert claimed_by(catalog, "out", f"{tmp_path}/d/x", ()) == ""


def test_a_change_not_saved_leaves_no_trace_in_the_index(tmp_path: Path, monkeypatch: Any) -> None:
    catalog = _catalog(tmp_path)
    assert claimed_by(catalog, "out", f"{tmp_path}/e", ()) == ""

    def full() -> None:
        raise CatalogSaveError(tmp_path / "catalog.json", OSError(28, "No space left on device"))

    monkeypatch.setattr(catalog, "_save", full)
    with pytest.raises(CatalogSaveError):
        catalog.register(Dataset("y", 1, SUM, f"{tmp_path}/e"))
    with pytest.raises(CatalogSaveError):
        catalog.forget("x")
    assert claimed_by(catalog, "out", f"{tmp_path}/e", ()) == ""
    assert "is a registered copy" in claimed_by(catalog, "out", f"{tmp_path}/a/x", ())


def test_a_stage_out_resolves_its_own_address_not_every_copys(tmp_path: Path, monkeypatch: Any) -> None:
    catalog = Catalog(None)
    for i in range(300):
        catalog.register(Dataset(f"d{i}", 1, SUM, f"{tmp_path}/data/d{i}"))
        catalog.add_replica(Replica(f"d{i}", "site=cloud", f"memory://bucket/d{i}"))
    assert claimed_by(catalog, "out", f"{tmp_path}/out/1", ()) == ""
    real, calls = fsspec.core.url_to_fs, []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(fsspec.core, "url_to_fs", counted)
    assert claimed_by(catalog, "out", f"{tmp_path}/out/2", ()) == ""
    assert len(calls) <= 2, len(calls)

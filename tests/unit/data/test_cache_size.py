"""[data] cache_bytes reads the same as a number or as text, with binary units (QA: "100" was 100 MiB as text but
100 bytes as a number, and "100K" was 0 and refused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.controller.core import Controller
from hal.controller.machine import Machine
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import byte_size, enable
from hal.executors.local import LocalExecutor


@pytest.mark.parametrize(
    ("given", "size"),
    [(100, 100), ("100", 100), ("100B", 100), ("100K", 102_400), ("500M", 500 * 2**20), ("2GiB", 2 * 2**30),
     ("1.5G", int(1.5 * 2**30)), (" 1 T ", 2**40), ("abc", None), ("10X", None), (True, None), (None, None),
     ("\u0661\u0660M", None)],  # Arabic-Indic digits: the documented form is ASCII (QA)
)  # fmt: skip
def test_sizes(given: object, size: int | None) -> None:
    assert byte_size(given) == size


def test_a_file_in_place_of_a_cache_folder_is_named_at_start(tmp_path: Path) -> None:
    """It said 'File exists' about the cache folder."""
    (tmp_path / "c.toml").write_text('name = "c"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\nmem = "1G"\n')
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / Machine.load(tmp_path / "c.toml").table().names[0]).write_text("not a folder")
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool"))  # fmt: skip
    with pytest.raises(ValueError, match="a file stands where its folder should be"):
        enable(ctl, {"cache_dir": str(tmp_path / "cache" / "{node}"), "catalog": str(tmp_path / "c.json")})

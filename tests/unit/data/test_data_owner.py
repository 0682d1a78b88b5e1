"""F8: two servers whose cluster files shared a [data] catalog or cache folder destroyed each other's job data;
now the second data plane is refused, naming the first (its home, its pid), and a dead server's lock is taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hal.controller.core import Controller
from hal.controller.devrunner import DevRunner
from hal.controller.machine import Machine
from hal.controller.store import Store, sqlite_url
from hal.data.live import LiveStaging
from hal.data.live_config import enable
from hal.data.owner import CACHE_LOCK, DataPlaneBusy
from tests.clusters import switch_tree

CLUSTER = switch_tree("two", "vn", 2, 2, "1G", 2)


def controller(tmp_path: Path, home: str) -> Controller:
    (tmp_path / "c.toml").write_text(CLUSTER)
    (tmp_path / home).mkdir(exist_ok=True)
    return Controller(Store(sqlite_url(tmp_path / home / "hal.db")), Machine.load(tmp_path / "c.toml"), DevRunner())


def data(tmp_path: Path, cache: str = "cache", catalog: str | None = "catalog.json") -> dict[str, object]:
    table: dict[str, object] = {"cache_dir": str(tmp_path / cache / "{node}")}
    if catalog is not None:
        table["catalog"] = str(tmp_path / catalog)
    return table


@pytest.mark.parametrize(
    ("second", "what"),
    [
        ({}, "catalog"),
        ({"cache": "other"}, "catalog"),  # its own caches, the same catalog
        ({"catalog": "other.json"}, "cache_dir"),  # its own catalog, the same caches
    ],
    ids=["both", "catalog", "caches"],
)
def test_a_second_data_plane_on_the_same_files_is_refused(tmp_path: Path, second: dict[str, str], what: str) -> None:
    first = enable(controller(tmp_path, "a"), data(tmp_path))
    try:
        with pytest.raises(DataPlaneBusy, match=what) as refused:
            enable(controller(tmp_path, "b"), data(tmp_path, **second))
        message = str(refused.value)
        assert f"home {tmp_path / 'a'}," in message and f"pid {os.getpid()}" in message, message
        assert isinstance(refused.value, ValueError)  # `hal server` says it in one `error:` line
    finally:
        first.shutdown()


def test_without_a_catalog_the_caches_alone_are_locked(tmp_path: Path) -> None:
    first = enable(controller(tmp_path, "a"), data(tmp_path, catalog=None))
    try:
        with pytest.raises(DataPlaneBusy, match=r"cache_dir .*vn"):
            enable(controller(tmp_path, "b"), data(tmp_path, catalog=None))
        other = enable(controller(tmp_path, "c"), data(tmp_path, cache="own", catalog=None))  # apart: fine
        other.shutdown()
    finally:
        first.shutdown()


def test_a_stopped_data_plane_lets_the_next_one_start(tmp_path: Path) -> None:
    enable(controller(tmp_path, "a"), data(tmp_path)).shutdown()
    again = enable(controller(tmp_path, "b"), data(tmp_path))
    again.shutdown()


def test_a_refused_start_holds_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        enable(controller(tmp_path, "a"), {**data(tmp_path), "attempts": 0})
    enable(controller(tmp_path, "b"), data(tmp_path)).shutdown()


def test_the_lock_of_a_server_that_died_is_taken_over(tmp_path: Path) -> None:
    """A server killed while holding the lock: the kernel drops its flock; its lock files still name it."""
    program = (
        "import sys\nfrom pathlib import Path\nfrom hal.data.owner import claim\n"
        "cat = Path(sys.argv[1]) / 'catalog.json'\n"
        "held = claim(cat, [Path(sys.argv[1]) / 'cache' / n for n in ('vn000', 'vn001', 'outputs')], '/dead/home')\n"
        "import os; os._exit(9)\n"  # no release: as a SIGKILL would leave it
    )
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path)], check=False, timeout=60)
    assert done.returncode == 9
    lock = tmp_path / "catalog.json.lock"
    assert json.loads(lock.read_text())["home"] == "/dead/home"
    staging: LiveStaging = enable(controller(tmp_path, "a"), data(tmp_path))
    try:
        assert json.loads(lock.read_text()) == {"home": str(tmp_path / "a"), "pid": os.getpid()}
        caches = staging.stager.caches
        assert sorted(caches) == ["vn000", "vn001"] and all(CACHE_LOCK not in c.entries for c in caches.values())
        with pytest.raises(DataPlaneBusy, match="pid"):
            enable(controller(tmp_path, "b"), data(tmp_path))
    finally:
        staging.shutdown()

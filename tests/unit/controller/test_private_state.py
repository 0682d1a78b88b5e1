"""The server's state is owner-only whatever the umask, and what the start forecaster learned outlives a kill -9
(saved periodically, atomically): QA found hal.db 0644 and 604 of 618 forecast errors lost after a kill."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hal.controller.private import tighten, write_private
from hal.controller.startboard import StartBoard
from hal.controller.store import Store, sqlite_url


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual site umask: files 0644 unless made private
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    store = Store(sqlite_url(tmp_path / "hal.db"))
    try:
        with store.engine.begin() as conn:  # a write: SQLite creates hal.db-wal and -shm
            conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
        files = sorted(p.name for p in tmp_path.iterdir())
        assert {"hal.db", "hal.db-wal", "hal.db-shm"} <= set(files), files
        assert {p.name: mode(p) for p in tmp_path.iterdir()} == {name: 0o600 for name in files}
    finally:
        store.close()


def test_an_older_servers_readable_database_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    Store(sqlite_url(tmp_path / "hal.db")).close()
    for name in ("hal.db", "hal.db-wal"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)
    store = Store(sqlite_url(tmp_path / "hal.db"))  # a kill -9 leaves -wal and -shm behind
    try:
        assert mode(tmp_path / "hal.db") == 0o600
        assert mode(tmp_path / "hal.db-wal") == 0o600
    finally:
        store.close()


def test_tighten_names_what_it_changed(tmp_path: Path) -> None:
    for name in ("start-forecasts.json", "runtime-model.zip", "server.json"):
        (tmp_path / name).write_text("{}")
        (tmp_path / name).chmod(0o644)
    (tmp_path / "token").write_text("t")
    (tmp_path / "token").chmod(0o600)
    assert tighten(tmp_path) == ["start-forecasts.json", "runtime-model.zip", "server.json"]
    assert all(mode(p) == 0o600 for p in tmp_path.iterdir())


def test_private_write_is_0600_before_the_rename(tmp_path: Path, loose_umask: None) -> None:
    target = tmp_path / "start-forecasts.json"
    seen: list[int] = []
    real = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(mode(Path(src)))
        real(src, dst)

    os.replace = replace  # type: ignore[assignment]
    try:
        write_private(target, "{}")
    finally:
        os.replace = real
    assert seen == [0o600]
    assert mode(target) == 0o600 and target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


def learn(board: StartBoard, n: int) -> None:
    f = board.forecaster
    for i in range(n):
        f.observe(100.0, 150.0, "alice")
        f.told[i] = (0.0, 10.0, 10.0)  # (when told, raw p90, plan on requests)
        f.started(i, 5.0)


def wait_for(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_forecast_errors_are_saved_while_running_not_only_at_stop(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "start-forecasts.json"
    board = StartBoard(members=3)
    board.keep(path, every=0.05)
    try:
        time.sleep(0.2)
        assert not path.exists()  # nothing learned: nothing written
        learn(board, 60)
        wait_for(lambda: path.exists() and StartBoard().load(path) == 60)
        assert mode(path) == 0o600
        back = StartBoard()
        back.load(path)
        assert len(back.forecaster.scores) == 60  # the p90 calibration is back: no fallback to the plan
        assert not back.forecaster.unsure()
        stamp = path.stat().st_mtime_ns
        time.sleep(0.3)
        assert path.stat().st_mtime_ns == stamp  # no news, no rewrite
        learn(board, 1)
        wait_for(lambda: path.stat().st_mtime_ns != stamp)
    finally:
        board.stop()
    assert board._keeper is not None
    board._keeper.join(2)
    assert not board._keeper.is_alive()  # ends with the board; the server's own save at stop follows

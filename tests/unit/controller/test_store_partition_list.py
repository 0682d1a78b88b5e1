"""squeue -p against the store: a pending job submitted to several partitions stores them as one list
(``debug,batch``), and -p debug, -p batch or -p debug,batch listed none of it (the whole string was compared)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.controller.store import Store, sqlite_url
from tests.unit.controller.test_store import _rows
from tests.unit.pg_schema import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(sqlite_url(tmp_path / "hal.db"))
        yield s
        s.close()
        return
    with pg_schema() as url:
        s = Store(url)
        yield s
        s.close()


def test_a_pending_jobs_partition_list_matches_each_of_its_partitions(db: Store) -> None:
    rows = _rows(1, 1) + _rows(2, 1) + _rows(3, 1) + _rows(4, 1) + _rows(5, 1)
    for row, part in zip(rows, ["debug,batch", "debug", "batch", "gpu_a", "gpuxa,debugx"], strict=True):
        row["partition"] = part
    with db.engine.begin() as conn:
        db.insert_jobs(conn, rows, 1.0, "submitted")

    def ids(partition: str | list[str]) -> list[int]:
        return [int(r["id"]) for r in db.query(partition=partition)]

    assert ids("debug") == ids(["debug"]) == [1, 2]
    assert ids("batch") == [1, 3]
    assert ids(["debug", "batch"]) == [1, 2, 3]
    assert ids("gpu_a") == [4] and ids("gpu%") == [] and ids("debu") == []  # whole names, LIKE's _ and % literal
    assert ids("gpuxa") == [5] and ids("debugx") == [5]
    assert ids("BATCH") == [] and ids("Debug") == []  # case-sensitive on both (SQLite's LIKE ignored case)

"""What `hal nodes` prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build


def test_cache_sizes_are_shown_in_a_unit_that_keeps_them_readable() -> None:
    """QA: hal nodes --long showed a 400K cache as 0/0/0 in whole MB."""
    from hal.cli.nodes import size_text

    assert [size_text(x) for x in (0, 512, 400 * 1024, 1536 * 2**20, 10 * 2**30)] == ["0", "512", "400K", "1.5G", "10G"]


def test_a_partition_without_a_limit_is_infinite_as_sinfo_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: hal nodes printed UNLIMITED in TIMELIMIT, squeue's word; sinfo prints infinite."""
    node = {"name": "n1", "partitions": ["batch", "short"], "state": "idle", "topology": ["sw0"]}
    parts = [
        {"name": "batch", "default": True, "max_time": None, "nodes": ["n1"]},
        {"name": "short", "default": False, "max_time": 3600.0, "nodes": ["n1"]},
    ]

    class Fake:
        def nodes(self) -> dict[str, Any]:
            return {"nodes": [node], "partitions": parts}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.nodes.client", client)
    monkeypatch.setenv("COLUMNS", "200")
    got = CliRunner().invoke(build(["nodes"]), ["nodes"])
    assert got.exit_code == 0, got.output
    rows = {line.split()[0]: line.split() for line in got.stdout.splitlines()[1:]}
    assert rows["batch*"][2] == "infinite" and rows["short"][2] == "1:00:00"
    assert "UNLIMITED" not in got.stdout

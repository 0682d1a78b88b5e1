"""Piped, the listings drawn as tables keep each row whole on one line however wide (QA HIGH: the console was 160
columns wide in a pipe, so a wider row folded its cells onto more lines and crushed the other columns)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build

CPUSET = list(range(96))  # "0,1,...,95": 270 characters in one cell
NODE = {
    "name": "n001", "partitions": ["batch"], "state": "idle", "cpus_alloc": 0, "cpus": 96, "mem_alloc_mb": 0,
    "mem_mb": 1000, "gpus_alloc": 0, "gpus": 0, "features": [], "topology": ["spine0", "leaf0"], "cpuset": CPUSET,
    "reason": "the fan on this machine makes a noise like a jet engine taking off at dawn " * 3,
    "reason_user": "root", "reason_time": None,
}  # fmt: skip
URI = "file:///" + "/deep" * 40 + "/data.bin"


class Fake:
    def nodes(self) -> dict[str, Any]:
        part = {"name": "batch", "default": True, "max_time": 3600, "nodes": ["n001"]}
        return {"nodes": [dict(NODE), {**NODE, "name": "n002"}], "partitions": [part]}

    def datasets(self) -> list[dict[str, Any]]:
        row = {"name": "big", "size": 10**12, "checksum": "sha256:" + "a" * 64, "owner": None, "replicas": ["origin"]}
        return [{**row, "uri": URI}, {**row, "name": "small", "uri": URI}]


def invoke(monkeypatch: pytest.MonkeyPatch, module: str, args: list[str]) -> list[str]:
    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr(f"hal.cli.{module}.client", client)
    got = CliRunner().invoke(build([args[0]]), args)
    assert got.exit_code == 0, got.output
    return [line for line in got.stdout.splitlines() if line.strip()]


def test_nodes_long_and_reasons_keep_one_line_per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    head, *rows = invoke(monkeypatch, "nodes", ["nodes", "--long"])
    assert head.split()[0] == "NODELIST" and head.split()[-1] == "CPUSET"
    assert [r.split()[0] for r in rows] == ["n001", "n002"] and all(r.rstrip().endswith(",95") for r in rows)
    head, row = invoke(monkeypatch, "nodes", ["nodes", "-R"])
    assert row.startswith(NODE["reason"].strip()) and row.rstrip().endswith("n[001-002]")


def test_dataset_list_keeps_one_line_per_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    head, *rows = invoke(monkeypatch, "dataset", ["dataset", "list"])
    assert head.split() == ["NAME", "SIZE", "CHECKSUM", "OWNER", "REPLICAS", "URI"]
    assert [r.split()[0] for r in rows] == ["big", "small"] and all(r.rstrip().endswith(URI) for r in rows)


def test_piped_rows_end_at_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich pads the last column to its widest cell: piped, `hal nodes` lines ended in blanks (sinfo's do not)."""
    rows = invoke(monkeypatch, "nodes", ["nodes", "-l"]) + invoke(monkeypatch, "dataset", ["dataset", "list"])
    assert rows[0].endswith("CPUSET") and rows[3].endswith("URI")  # the headers were padded to the cells below
    assert all(r == r.rstrip() for r in rows)

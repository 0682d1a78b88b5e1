"""`hal show` prints ReqNodeList= and ExcNodeList= always, (null) when unset, and an array's ArrayTaskThrottle=,
as scontrol does (QA LOW: scripts grep for them); `hal update` names the field the user typed when it refuses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build
from tests.unit.cli.test_show_std_paths import PENDING


def _shown(monkeypatch: pytest.MonkeyPatch, record: dict[str, Any]) -> str:
    class Fake:
        def get(self, job: str, start: bool = False) -> dict[str, Any]:
            return dict(record)

        def priority(self) -> dict[str, Any]:
            return {"jobs": []}

        def nodes(self) -> dict[str, Any]:
            return {"nodes": []}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.show.client", client)
    got = CliRunner().invoke(build(["show"]), ["show", "7"])
    assert got.exit_code == 0, got.output
    return got.stdout


def test_node_lists_and_the_throttle_are_shown_as_scontrol(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _shown(monkeypatch, PENDING)
    assert "ReqNodeList=(null) ExcNodeList=(null)" in plain and "ArrayTaskThrottle" not in plain
    listed = _shown(
        monkeypatch, {**PENDING, "req_nodelist": ["vn001", "vn002"], "exclude": ["vn004"], "array_limit": 4}
    )
    assert "ReqNodeList=vn[001-002] ExcNodeList=vn004 ArrayTaskThrottle=4" in listed

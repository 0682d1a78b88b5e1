"""`hal show` prints ReqNodeList= and ExcNodeList= always, (null) when unset, and an array's ArrayTaskThrottle=,
as scontrol does (QA LOW: scripts grep for them); `hal update` names the field the user typed when it refuses."""

from __future__ import annotations

import pytest

from tests.unit.cli.test_show_std_paths import PENDING, shown


def test_node_lists_and_the_throttle_are_shown_as_scontrol(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = shown(monkeypatch, PENDING)
    assert "ReqNodeList=(null) ExcNodeList=(null)" in plain and "ArrayTaskThrottle" not in plain
    listed = shown(monkeypatch, {**PENDING, "req_nodelist": ["vn001", "vn002"], "exclude": ["vn004"], "array_limit": 4})
    assert "ReqNodeList=vn[001-002] ExcNodeList=vn004 ArrayTaskThrottle=4" in listed

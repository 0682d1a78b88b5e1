"""QA (REST, SDK and HTC, round of 2026-12-03) on a real session manager: a result the client cannot unpickle fails
its future and the session goes on (the reader thread died and every future waited forever); a session's priority
must be a whole number (a NaN failed every user's queued tasks of the application); a session's name is bounded."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hal.htc.client import HtcClient
from hal.htc.local import LocalManager
from hal.htc.results import ResultUnreadable

ONLY_THERE = """
class Point:
    def __init__(self, x):
        self.x = x

def point(x):
    return Point(x) if x else 0
"""


def test_a_result_the_client_cannot_unpickle_fails_its_future_and_the_session_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "only_there.py").write_text(ONLY_THERE)  # importable by the instances, not by this process
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with LocalManager(cpus=1) as admin:
        admin.register_app("point", "only_there:point", max_instances=1)
        with HtcClient(admin.address, user="al").session("point") as s:
            with pytest.raises(ResultUnreadable, match=r"task \d+'s result cannot be unpickled here.*only_there"):
                s.submit(1).result(timeout=60)
            assert s.submit(0).result(timeout=60) == 0  # the reader thread lives on


def test_a_session_priority_must_be_a_whole_number_in_range() -> None:
    with LocalManager(cpus=1) as admin:
        admin.register_app("sq", "hal.htc.examples:square", max_instances=1)
        for bad in (math.nan, math.inf, "x", 1.5, True, -1, 10**6):
            with pytest.raises(RuntimeError, match="priority must be a whole number from 0 to 10,000"):
                HtcClient(admin.address, user="al").session("sq", priority=bad)  # type: ignore[arg-type]
        with HtcClient(admin.address, user="bo").session("sq", priority=3) as s:
            assert list(s.map([2, 3])) == [4, 9]
        with pytest.raises(RuntimeError, match="a session name is at most 256 characters"):
            HtcClient(admin.address, user="al").session("sq", name="n" * 257)

"""Why a job waiting for node-cache room has no forecast start, as the forecast finds it (`hal explain` printed
"one has no time limit" of every such job; review): a pinning job with no known end, too few nodes with a cache,
or inputs larger than a cache. The API passes the board's reason on as ``start_unknown``."""

from __future__ import annotations

import contextlib
import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from hal.api.forecast_state import unknown_starts, with_forecast_state
from hal.controller.cache_forecast import node_room, room_for


def _cache(capacity: int, pins: dict[str, set[int]], sizes: dict[str, int]) -> Any:
    return SimpleNamespace(capacity=capacity, pins=pins, entries=sizes, reserved={})


def test_a_pinning_job_with_no_known_end_is_named() -> None:
    cache = _cache(100, {"a": {7}}, {"a": 80})
    room = node_room(cache, {"b": 50}, lambda j: math.inf, 0.0)
    assert math.isinf(room.when) and "job 7 has no time limit" in room.why


def test_inputs_larger_than_a_cache_are_said_so() -> None:
    room = node_room(_cache(100, {"a": {7}}, {"a": 80}), {"b": 150}, lambda j: 10.0, 0.0)
    assert math.isinf(room.when) and "do not fit in a node's cache" in room.why


def test_too_few_nodes_with_a_cache_are_said_so() -> None:
    stager = SimpleNamespace(
        guard=contextlib.nullcontext,
        catalog=SimpleNamespace(datasets={"b": SimpleNamespace(size=10)}),
        caches={"n0": _cache(100, {}, {})},
    )
    ctl = SimpleNamespace(
        staging=SimpleNamespace(stager=stager),
        book=SimpleNamespace(allowed=lambda req: np.array([True, True])),
        table=SimpleNamespace(names=["n0", "n1"]),
        drained=set(),
    )
    item = SimpleNamespace(req=None, spec=SimpleNamespace(inputs=("b",), nodes=2))
    room = room_for(SimpleNamespace(running={}), ctl, item, 0.0)
    assert math.isinf(room.when) and room.why == "only 1 of the nodes it may use have a node cache; it needs 2"


def test_the_api_passes_the_boards_reason_on() -> None:
    ctl = SimpleNamespace(board=SimpleNamespace(unknown={3: "why not"}))
    rows = [{"id": 3, "state": "PENDING", "predicted_start": None}, {"id": 4, "state": "PENDING"}]
    recs = [with_forecast_state(r, {}) for r in unknown_starts(ctl, rows)]
    assert recs[0]["start_unknown"] == "why not" and "start_unknown" not in recs[1]

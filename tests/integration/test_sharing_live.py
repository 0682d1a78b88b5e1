"""A real `hal server` on a cluster file with blocks: --exclusive=user shares a node with its user's jobs only, and
an #SBATCH --exclusive=topo job keeps the rest of its block from other jobs until it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hal.executors.hostlist import expand
from tests.clusters import cluster_toml
from tests.integration.livekit import LiveServer, cancel, serve_cluster, show, until_state, wait_running
from tests.integration.livekit import submit as sdk_submit

# 4 nodes of 2 CPUs in two blocks of two (one switch each)
BLOCKS = cluster_toml(name="blocks", nodes=4, cpus=2, topology={"block": 1, "switch": 2})


@pytest.fixture(scope="module")
def live(tmp_path_factory: Any) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "sharing", BLOCKS)


def submit(live: LiveServer, token: str, wrap: str = "sleep 300", script: str = "", **options: str) -> str:
    """Through the SDK: `hal submit` is not the subject (a process each cost ~0.4 s, ~1 s loaded)."""
    return sdk_submit(live, wrap, token=token, script=script, time="5:00", **options)


def nodes(live: LiveServer, job: str) -> set[str]:
    wait_running(live, job)
    return set(expand(show(live, job)["nodelist"]))


def waits(live: LiveServer, job: str, cycles: int = 3) -> bool:
    """Still pending after a few scheduling cycles, counted on /metrics (a fixed 2.5 s before; a cycle comes at
    least every second, and at once after a submission)."""
    auth = {"Authorization": f"Bearer {live.token()}"}
    with httpx.Client(base_url=live.url, headers=auth, verify=False, timeout=30) as http:

        def count() -> float:
            rows = http.get("/metrics").text.splitlines()
            return sum(float(r.split()[-1]) for r in rows if r.startswith("hal_cycle_duration_seconds_count"))

        deadline, seen = time.monotonic() + 30, count()
        while count() < seen + cycles:
            assert time.monotonic() < deadline, "no scheduling cycle"
            time.sleep(0.05)
    return bool(show(live, job)["state"] == "PENDING")


def test_exclusive_user_and_topo_on_a_live_server(live: LiveServer, tmp_path: Path) -> None:
    bob, carol = live.new_user("bob"), live.new_user("carol")
    mine = submit(live, bob, exclusive="user", ntasks="1")
    (node,) = nodes(live, mine)
    big = submit(live, carol, "true", ntasks="7")  # 7 CPUs are free, but one of them is bob's
    assert waits(live, big)
    cancel(live, big, token=carol)
    theirs = submit(live, carol, ntasks="6")
    assert node not in nodes(live, theirs)
    plain = submit(live, bob, ntasks="1")
    assert nodes(live, plain) == {node}  # bob's plain job shares his node
    cancel(live, mine, plain, token=bob)
    cancel(live, theirs, token=carol)

    first = submit(live, carol, ntasks="1")
    topo = submit(live, bob, script="#!/bin/sh\n#SBATCH --exclusive=topo  # no other job in my block\nsleep 300\n")
    blocks = [{"n000", "n001"}, {"n002", "n003"}]
    mine_block = next(b for b in blocks if nodes(live, topo) <= b)
    assert not nodes(live, first) & mine_block  # it went to the block nobody used
    rest = submit(live, carol, ntasks="4")  # 6 CPUs are free; 3 of them held by the topo job
    assert waits(live, rest)
    cancel(live, topo, token=bob)
    until_state(live, topo, "CANCELLED")
    assert nodes(live, rest) & mine_block
    cancel(live, first, rest, token=carol)


def test_show_names_the_idle_nodes_a_topo_block_holds(live: LiveServer) -> None:
    """QA: a job kept off idle nodes by another job's --exclusive=topo block showed Why="it is next in line and
    waits for nodes to free up" in `hal show`, while `hal explain` named the held idle nodes: both name them now."""
    bob, carol = live.new_user("bob2"), live.new_user("carol2")
    topo = submit(live, bob, ntasks="1", nodes="1", exclusive="topo")
    blocks = [{"n000", "n001"}, {"n002", "n003"}]
    mine_block = next(b for b in blocks if nodes(live, topo) <= b)
    full = submit(live, carol, ntasks="4", nodes="2")  # the other block, whole
    assert not nodes(live, full) & mine_block
    held = submit(live, carol, ntasks="1", nodes="1")
    assert waits(live, held)
    idle = (mine_block - nodes(live, topo)).pop()
    for args in (("show", held), ("explain", held)):
        said = " ".join(live.cli(*args, token=carol, check=True).stdout.split())
        assert f"free nodes exist, but idle nodes {idle} are held for another user's --exclusive=topo job" in said
        assert "waits for nodes to free up" not in said
    assert show(live, held)["reason"] == "Resources"
    cancel(live, topo, token=bob)
    cancel(live, full, held, token=carol)

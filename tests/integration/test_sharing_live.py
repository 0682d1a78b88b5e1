"""A real `hal server` on a cluster file with blocks: --exclusive=user shares a node with its user's jobs only, and
an #SBATCH --exclusive=topo job keeps the rest of its block from other jobs until it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hal.executors.hostlist import expand
from tests.clusters import cluster_toml
from tests.integration.livekit import LiveServer, serve_cluster, show, until_state, wait_running

# 4 nodes of 2 CPUs in two blocks of two (one switch each)
BLOCKS = cluster_toml(name="blocks", nodes=4, cpus=2, topology={"block": 1, "switch": 2})


@pytest.fixture(scope="module")
def live(tmp_path_factory: Any) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "sharing", BLOCKS)


def submit(live: LiveServer, token: str, *args: str) -> str:
    return live.cli("submit", "--parsable", "-t", "5:00", *args, token=token, check=True).stdout.strip()


def nodes(live: LiveServer, job: str) -> set[str]:
    wait_running(live, job)
    return set(expand(show(live, job)["nodelist"]))


def waits(live: LiveServer, job: str) -> bool:
    """Still pending after a few scheduling cycles."""
    time.sleep(2.5)
    return bool(show(live, job)["state"] == "PENDING")


def test_exclusive_user_and_topo_on_a_live_server(live: LiveServer, tmp_path: Path) -> None:
    bob, carol = live.new_user("bob"), live.new_user("carol")
    mine = submit(live, bob, "--exclusive=user", "-n1", "--wrap", "sleep 300")
    (node,) = nodes(live, mine)
    big = submit(live, carol, "-n7", "--wrap", "true")  # 7 CPUs are free, but one of them is bob's
    assert waits(live, big)
    live.cli("cancel", big, token=carol, check=True)
    theirs = submit(live, carol, "-n6", "--wrap", "sleep 300")
    assert node not in nodes(live, theirs)
    plain = submit(live, bob, "-n1", "--wrap", "sleep 300")
    assert nodes(live, plain) == {node}  # bob's plain job shares his node
    live.cli("cancel", mine, plain, token=bob, check=True)
    live.cli("cancel", theirs, token=carol, check=True)

    first = submit(live, carol, "-n1", "--wrap", "sleep 300")
    script = live.work / "topo.sh"
    script.write_text("#!/bin/sh\n#SBATCH --exclusive=topo  # no other job in my block\nsleep 300\n")
    topo = submit(live, bob, str(script))
    blocks = [{"n000", "n001"}, {"n002", "n003"}]
    mine_block = next(b for b in blocks if nodes(live, topo) <= b)
    assert not nodes(live, first) & mine_block  # it went to the block nobody used
    rest = submit(live, carol, "-n4", "--wrap", "sleep 300")  # 6 CPUs are free; 3 of them held by the topo job
    assert waits(live, rest)
    live.cli("cancel", topo, token=bob, check=True)
    until_state(live, topo, "CANCELLED")
    assert nodes(live, rest) & mine_block
    live.cli("cancel", first, rest, token=carol, check=True)

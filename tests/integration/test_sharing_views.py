"""A real `hal server` with an --exclusive=topo and an --exclusive=user job running: `hal nodes` shows the free
nodes of the topo job's block as blocked (sinfo's BLOCKED), and `hal explain` offers a pending job no placement
on nodes those modes keep from it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clusters import cluster_toml
from tests.integration.livekit import LiveServer, serve_cluster, show, wait_running

# 4 nodes of 2 CPUs in two blocks of two (one switch each)
BLOCKS = cluster_toml(name="blocks", nodes=4, cpus=2, topology={"block": 1, "switch": 2})


@pytest.fixture(scope="module")
def live(tmp_path_factory: Any) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "sharing_views", BLOCKS)


def submit(live: LiveServer, token: str, *args: str) -> str:
    return live.cli("submit", "--parsable", "-t", "5:00", *args, token=token, check=True).stdout.strip()


def test_nodes_show_a_topo_block_blocked_and_explain_offers_no_kept_node(live: LiveServer) -> None:
    bob, alice, carol = live.new_user("bob"), live.new_user("alice"), live.new_user("carol")
    mine = submit(live, bob, "--exclusive=user", "-w", "n000", "--wrap", "sleep 300")
    topo = submit(live, alice, "--exclusive=topo", "-w", "n002", "--wrap", "sleep 300")  # holds n003 too
    for job in (mine, topo):
        wait_running(live, job)
    info = json.loads(live.cli("nodes", "--json", check=True).stdout)
    got = {n["name"]: (n["state"], n["cpus_alloc"]) for n in info["nodes"]}
    # the old code: n002 and n003 alloc with 2 CPUs each, the held ones counted as allocated
    assert got == {"n000": ("mix", 1), "n001": ("idle", 0), "n002": ("mix", 1), "n003": ("blocked", 0)}, got
    short = [line.split() for line in live.cli("nodes", check=True).stdout.splitlines()]
    assert any("blocked" in row and "n003" in row for row in short), short
    wide = [line.split() for line in live.cli("nodes", "-l", check=True).stdout.splitlines()]
    assert ["n003", "batch", "blocked", "0/2"] in [row[:4] for row in wide], wide

    waiting = submit(live, carol, "-n3", "--wrap", "true")  # 3 CPUs are free to her count: n001's and bob's
    time.sleep(2.0)  # a few scheduling cycles
    assert show(live, waiting)["state"] == "PENDING"
    said = live.cli("explain", waiting, token=carol, check=True).stdout
    assert "placements free right now" not in said, said  # the old code offered n000 and n001
    with live.client(carol) as c:
        assert c.advice(waiting)["candidates"] == []
    live.cli("cancel", waiting, token=carol, check=True)
    live.cli("cancel", mine, token=bob, check=True)
    live.cli("cancel", topo, token=alice, check=True)

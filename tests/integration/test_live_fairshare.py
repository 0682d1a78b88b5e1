"""`hal prio` (sprio) and `hal shares` (sshare) on a real server: a user who has used the machine gets a lower
fair-share factor, so another user's job goes first, and users see only their own rows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = 'name = "one"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\nmem = "1G"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "fairshare", CLUSTER)


def test_priority_factors_and_shares(server: LiveServer) -> None:
    eve = server.new_user("eve")
    me = json.loads(
        server.cli(
            "show",
            server.cli("submit", "--parsable", "--wrap", "sleep 1", check=True).stdout.strip(),
            "--json",
            check=True,
        ).stdout
    )["user"]
    used = server.cli("submit", "--parsable", "--wrap", "sleep 1", check=True).stdout.strip()
    assert server.cli("wait", used, "--timeout", "60").returncode == 0  # usage charged to me
    blocker = server.cli("submit", "--parsable", "--wrap", "sleep 120", check=True).stdout.strip()
    mine = server.cli("submit", "--parsable", "--wrap", "true", check=True).stdout.strip()
    hers = server.cli("submit", "--parsable", "--wrap", "true", token=eve, check=True).stdout.strip()
    time.sleep(1.0)
    got = json.loads(server.cli("prio", "--json", check=True).stdout)
    rows = {str(r["job_id"]): r for r in got["jobs"]}
    assert [str(r["job_id"]) for r in got["jobs"] if str(r["job_id"]) in (mine, hers)] == [hers, mine]
    assert rows[hers]["factors"]["fairshare"] > rows[mine]["factors"]["fairshare"]
    for r in rows.values():
        parts = sum(r["factors"][k] for k in ("age", "fairshare", "jobsize", "partition", "qos", "nice"))
        assert abs(parts - r["priority"]) < 0.05, r
    table = server.cli("prio", check=True).stdout
    assert "FAIRSHARE" in table and hers in table
    weights = server.cli("prio", "-w", check=True).stdout.splitlines()
    assert len(weights) == 2 and weights[1].split()[0] == "Weights"  # sprio -w: the weights alone
    held = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
    assert held in {str(r["job_id"]) for r in json.loads(server.cli("prio", "--json", check=True).stdout)["jobs"]}
    server.cli("cancel", held, check=True)  # sprio lists held and dependent jobs too (they were left out)
    theirs = json.loads(server.cli("prio", "--json", token=eve, check=True).stdout)["jobs"]
    assert [str(r["job_id"]) for r in theirs] == [hers]
    shares = {r["user"]: r for r in json.loads(server.cli("shares", "--json", check=True).stdout)["users"]}
    assert shares["eve"]["fairshare"] == 1.0 and shares[me]["fairshare"] < 1.0 and shares[me]["raw_usage"] > 0
    assert [r["user"] for r in json.loads(server.cli("shares", "--json", token=eve, check=True).stdout)["users"]] == [
        "eve"
    ]
    assert "FairShare" in server.cli("shares", check=True).stdout
    for job in (blocker, mine):
        server.cli("cancel", job, check=True)
    server.cli("cancel", hers, token=eve, check=True)


def test_shares_after_a_restart_before_any_job_is_queued(tmp_path: Path) -> None:
    """QA: hal shares was empty after a restart until a scheduling cycle had work to do."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        job = live.cli("submit", "--parsable", "--wrap", "sleep 1", check=True).stdout.strip()
        assert live.cli("wait", job, "--timeout", "60").returncode == 0
        live.kill()
        live.start()
        users = json.loads(live.cli("shares", "--json", check=True).stdout)["users"]
        assert users and users[0]["raw_usage"] > 0, users
    finally:
        live.stop()

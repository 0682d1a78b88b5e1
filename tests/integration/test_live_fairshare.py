"""`hal prio` (sprio) and `hal shares` (sshare) on a real server: a user who has used the machine gets a lower
fair-share factor, so another user's job goes first, and users see only their own rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.livekit import LiveServer, cancel, finished, serve_cluster, show, submit, wait_running

CLUSTER = 'name = "one"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\nmem = "1G"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "fairshare", CLUSTER)


def test_priority_factors_and_shares(server: LiveServer) -> None:
    eve = server.new_user("eve")  # jobs go in through the SDK: hal prio and hal shares are the subject
    me = show(server, submit(server, "sleep 1"))["user"]
    used = submit(server, "sleep 1")
    assert finished(server, used) == "COMPLETED"  # usage charged to me
    blocker = submit(server, "sleep 120")
    wait_running(server, blocker)  # it holds the one CPU before her job, which would go first, is queued
    mine = submit(server)
    hers = submit(server, token=eve)
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
    held = submit(server, hold=True)
    assert held in {str(r["job_id"]) for r in json.loads(server.cli("prio", "--json", check=True).stdout)["jobs"]}
    cancel(server, held)  # sprio lists held and dependent jobs too (they were left out)
    theirs = json.loads(server.cli("prio", "--json", token=eve, check=True).stdout)["jobs"]
    assert [str(r["job_id"]) for r in theirs] == [hers]
    shares = {r["user"]: r for r in json.loads(server.cli("shares", "--json", check=True).stdout)["users"]}
    assert shares["eve"]["fairshare"] == 1.0 and shares[me]["fairshare"] < 1.0 and shares[me]["raw_usage"] > 0
    assert [r["user"] for r in json.loads(server.cli("shares", "--json", token=eve, check=True).stdout)["users"]] == [
        "eve"
    ]
    assert "FairShare" in server.cli("shares", check=True).stdout
    cancel(server, blocker, mine)
    cancel(server, hers, token=eve)


def test_shares_after_a_restart_before_any_job_is_queued(tmp_path: Path) -> None:
    """QA: hal shares was empty after a restart until a scheduling cycle had work to do."""
    live = LiveServer(tmp_path)
    live.start()
    try:
        assert finished(live, submit(live, "sleep 1")) == "COMPLETED"  # the SDK: hal shares is the subject
        live.kill()
        live.start()
        users = json.loads(live.cli("shares", "--json", check=True).stdout)["users"]
        assert users and users[0]["raw_usage"] > 0, users
    finally:
        live.stop()

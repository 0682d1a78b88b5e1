"""Draining nodes on a real server: running jobs finish there, new ones go elsewhere, the drain outlives a
killed controller, and only admins drain."""

from __future__ import annotations

import getpass
import time
from pathlib import Path

from tests.integration.livekit import LiveServer, cancel, finished, gated, show, submit
from tests.integration.livekit import nodes as _nodes


def _nodelist(live: LiveServer, job: str) -> str:
    return str(show(live, job)["nodelist"])


def _waits(live: LiveServer, job: str, reason: str) -> None:
    """The job is held PENDING for ``reason`` once a scheduling cycle has looked at it (a fixed 1 s before)."""
    deadline = time.monotonic() + 30
    while (rec := show(live, job))["reason"] != reason:
        assert time.monotonic() < deadline and rec["state"] == "PENDING", rec
        time.sleep(0.05)
    assert rec["state"] == "PENDING", rec


def test_drained_nodes_take_no_new_jobs_until_resumed(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        go = tmp_path / "go"  # the busy job runs through the drain and the restart, and ends when the test says
        busy = submit(live, gated(go), nodelist="vn000")  # the SDK where `hal submit` is not the subject
        deadline = time.monotonic() + 30
        while _nodes(live)["vn000"]["state"] == "idle":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        live.cli("drain", "vn[000-002]", "--reason", "fans replaced", check=True)
        assert _nodes(live)["vn000"]["state"] == "drng"  # its job runs on
        assert "fans replaced" in live.cli("nodes", "-R", check=True).stdout
        live.kill()  # SIGKILL: the drain is in the records
        live.start()
        jobs = [submit(live) for _ in range(3)]
        go.touch()
        for job in [busy, *jobs]:
            assert finished(live, job) == "COMPLETED"
        assert {_nodelist(live, j) for j in jobs} == {"vn003"}
        assert _nodes(live)["vn001"]["state"] == "drain" and _nodes(live)["vn001"]["reason"] == "fans replaced"
        wide = submit(live, nodes="2")
        # 2 nodes, one in service: only the drained ones would let it start (it said Resources)
        _waits(live, wide, "ReqNodeNotAvail, UnavailableNodes:vn[000-002]")
        cancel(live, wide)
        wide = submit(live, nodes="2")
        _waits(live, wide, "ReqNodeNotAvail, UnavailableNodes:vn[000-002]")
        cancel(live, wide)
        pinned = submit(live, nodelist="vn001")
        _waits(live, pinned, "ReqNodeNotAvail, UnavailableNodes:vn001")  # waits
        shown = " ".join(live.cli("show", pinned, check=True).stdout.split())
        assert "ReqNodeList=vn001" in shown and "Why=nodes it needs are drained" in shown, shown
        explained = " ".join(live.cli("explain", pinned, check=True).stdout.split())  # QA: it had no why line
        assert "why: nodes it needs are drained" in explained, explained
        listed = " ".join(live.cli("nodes", "-R", check=True).stdout.split())
        assert "REASON USER TIMESTAMP STATE NODELIST" in listed and f"fans replaced {getpass.getuser()}" in listed
        bob = live.new_user("bob")
        refused = live.cli("resume", "vn001", token=bob)
        assert refused.returncode != 0 and "only admins" in refused.stderr
        for args, said in [(["drain", "vn001"], "give a reason"), (["drain", "vn009", "--reason", "x"], "no such")]:
            done = live.cli(*args)
            assert done.returncode != 0 and said in " ".join(done.stderr.split()), done.stderr
        live.cli("update", "NodeName=vn[000-002]", "State=RESUME", check=True)  # scontrol's spelling of resume
        live.cli("update", "nodename=vn002", "State=DRAIN", "Reason=psu swap", check=True)
        assert _nodes(live)["vn002"]["state"] == "drain" and _nodes(live)["vn002"]["reason"] == "psu swap"
        for args, said in [
            (["State=DRAIN"], "give a reason"),
            (["State=DOWN", "Reason=x"], "State=DRAIN (running jobs finish)"),
            (["Weight=5"], "State (DRAIN, RESUME, UNDRAIN) and Reason only"),
        ]:
            done = live.cli("update", "NodeName=vn002", *args)
            assert done.returncode != 0 and said in " ".join(done.stderr.split()), done.stderr
        live.cli("update", "NodeName=vn002", "Reason=psu swapped", check=True)  # a drained node's reason alone
        assert _nodes(live)["vn002"]["reason"] == "psu swapped"
        refused = live.cli("update", "NodeName=vn003", "Reason=x")
        assert refused.returncode != 0 and "not drained: vn003" in refused.stderr
        both = live.cli("update", "NodeName=vn[002-003]", "State=UNDRAIN", "--json")  # as scontrol: the drained
        assert both.returncode == 0 and "not drained: vn003" in both.stderr  # one resumes, the other is said
        assert _nodes(live)["vn002"]["state"] == "idle"
        again = live.cli("resume", "vn003")
        assert again.returncode != 0 and "not drained: vn003" in again.stderr
        assert finished(live, pinned) == "COMPLETED"
        assert _nodes(live)["vn001"]["reason"] == ""
    finally:
        live.stop()

"""QA (cli2 #5): `hal update ReqNodeList=` took a list longer than NumNodes, which submission refuses, and the job
then ran on a subset of its "required" nodes. On a real controller, SQLite store and local processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.contracts import SubmitError
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.controller.update import update
from hal.executors.local import LocalExecutor
from tests.integration.livekit import EXAMPLE

ME = Identity("alice", admin=False)


def test_a_required_node_list_longer_than_numnodes_is_refused_and_a_job_runs_on_all_it_lists(tmp_path: Path) -> None:
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"))
    recover(ctl)

    def held(**options: str) -> int:
        req = build_request("#!/bin/sh\ntrue\n", {"time": "5:00", "hold": "1", **options}, {}, str(tmp_path), 0)
        return ctl.submit(req, "alice").job_ids[0]

    job = held(nodes="2", nodelist="vn000")
    for fields in ({"ReqNodeList": "vn[000-003]", "NumNodes": "2"}, {"ReqNodeList": "vn[000-002]"}):
        with pytest.raises(SubmitError, match=r"Node count specification invalid: ReqNodeList names \d nodes"):
            update(ctl, str(job), ME, fields)
    update(ctl, str(job), ME, {"ReqNodeList": "vn[001-002]"})  # as many as NumNodes: taken
    with pytest.raises(SubmitError, match="more than NumNodes=1 allows; give NumNodes=2 too"):
        update(ctl, str(job), ME, {"NumNodes": "1"})  # fewer than it lists
    update(ctl, str(job), ME, {"ReqNodeList": "vn[000-002]", "NumNodes": "3"})
    sized = held(ntasks="3")  # no node count: the list gives it, as -w alone at submission
    update(ctl, str(sized), ME, {"ReqNodeList": "vn[001-003]"})
    assert [(ctl.store.get(j) or {}).get("req_nodes") for j in (job, sized)] == [3, 3]
    ctl.start()
    try:
        for j in (job, sized):
            set_hold(ctl, str(j), ME, False)
        deadline = time.monotonic() + 30
        while any((ctl.store.get(j) or {}).get("state") != "COMPLETED" for j in (job, sized)):
            assert time.monotonic() < deadline, [ctl.store.get(j) for j in (job, sized)]
            time.sleep(0.05)
    finally:
        ctl.stop()
    assert [(ctl.store.get(j) or {}).get("nodelist") for j in (job, sized)] == ["vn[000-002]", "vn[001-003]"]

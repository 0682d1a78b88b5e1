"""`-p small,all`: a job runs in exactly one of its partitions, on that partition's nodes only, and its record,
SLURM_JOB_PARTITION and refusals say which (QA: `-p small,all -N 3` ran "in small" on a03, a node of `all` only)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.engine.profile import Profile
from hal.executors.hostlist import expand
from hal.executors.local import LocalExecutor

TOPOLOGY = "SwitchName=sa Nodes=a[01-04]\nSwitchName=sb Nodes=b[01-04]\nSwitchName=top Switches=sa,sb\n"
CLUSTER = """
name = "qa"
[[nodes]]
names = "a[01-02]"
cpus = 1
partitions = ["small", "all"]
[[nodes]]
names = "b[01-02]"
cpus = 1
partitions = ["small", "all"]
[[nodes]]
names = "a[03-04]"
cpus = 1
partitions = ["all"]
[[nodes]]
names = "b[03-04]"
cpus = 1
partitions = ["all"]
[[partitions]]
name = "small"
default = true
[[partitions]]
name = "all"
[topology]
slurm_conf = "topology.conf"
"""
MEMBERS = {"small": {"a01", "a02", "b01", "b02"}, "all": {f"{s}0{i}" for s in "ab" for i in range(1, 5)}}
ECHO = 'echo "$SLURM_JOB_PARTITION $SLURM_JOB_NODELIST"'


def _controller(tmp: Path, placement: str) -> Controller:
    (tmp / "topology.conf").write_text(TOPOLOGY)
    (tmp / "c.toml").write_text(CLUSTER)
    store = Store(sqlite_url(tmp / "hal.db"))
    ctl = Controller(store, Machine.load(tmp / "c.toml"), LocalExecutor(tmp / "spool"), Profile(placement=placement))
    recover(ctl)
    return ctl


@pytest.mark.parametrize("placement", ["topology", "firstfit"])
def test_a_job_of_two_partitions_runs_in_one_on_its_nodes(tmp_path: Path, placement: str) -> None:
    ctl = _controller(tmp_path, placement)

    def submit(**opts: str) -> int:
        script = f"#!/bin/sh\n{ECHO}\n"
        return ctl.submit(build_request(script, {"time": "1", **opts}, {}, str(tmp_path), 0), "al").job_ids[0]

    ctl.start()
    try:
        jobs = [submit(partition="small,all", nodes="3"), submit(partition="small,all", nodes="6")]
        if placement == "topology":  # one leaf switch: no switch has 3 nodes of small, so all's
            jobs.append(submit(partition="small,all", nodes="3", topology="required=switch"))
        deadline = time.monotonic() + 60
        while any(j in ctl.live for j in jobs) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ctl.stop()
    rows = [ctl.store.get(j) or {} for j in jobs]
    for row in rows:
        assert row["state"] == "COMPLETED", row
        nodes = set(expand(row["nodelist"]))
        assert nodes <= MEMBERS[row["partition"]], row  # every node in the partition on record
        said = Path(row["stdout_path"]).read_text().split()
        assert said[0] == row["partition"], said  # SLURM_JOB_PARTITION names it too
    assert [r["partition"] for r in rows[1:]] == ["all"] * (len(rows) - 1)  # 6 nodes, or one switch: only all's
    if placement == "topology":  # and on one switch
        assert len({n[0] for n in expand(rows[2]["nodelist"])}) == 1, rows[2]


def test_a_job_no_one_of_its_partitions_holds_is_refused(tmp_path: Path) -> None:
    """Their union has the nodes, no one partition has: refused, each partition's reason given."""
    text = (
        CLUSTER.replace('partitions = ["small", "all"]', 'partitions = ["small"]')
        .replace('partitions = ["all"]', 'partitions = ["big"]')
        .replace('name = "all"', 'name = "big"')
    )
    (tmp_path / "topology.conf").write_text(TOPOLOGY)
    (tmp_path / "c.toml").write_text(text)
    ctl = Controller(
        Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"), LocalExecutor(tmp_path / "spool")
    )
    recover(ctl)
    with pytest.raises(SubmitError, match=r"none can hold it.*'small': needs 5 nodes, the partition has 4"):
        ctl.submit(
            build_request("#!/bin/sh\ntrue\n", {"partition": "small,big", "nodes": "5"}, {}, str(tmp_path), 0), "al"
        )

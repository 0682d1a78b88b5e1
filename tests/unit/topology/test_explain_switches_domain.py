"""QA: `hal explain` of a --switches=1@60 job said "free nodes exist, but not within its --switches=1 (nor the
largest domain a job may span)" while four nodes were free within that domain (the job started over two switches
once its wait ran out). The clause is said only when true, and the server says when the wait runs out."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from hal.cli import explain as explain_cli
from hal.cli.explain import topology_advice
from hal.cli.live import stamp
from hal.engine.cycle import Scheduler
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.plugins.placement_explain import topology_hold, topology_reason
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources
from hal.topology_conf import parse_topology_conf
from tests.unit.cli.test_forecast_note import PENDING

NAMES = [f"c{i:02d}" for i in range(1, 9)]
SWITCHES = "SwitchName=s1 Nodes=c[01-04]\nSwitchName=s2 Nodes=c[05-08]\n"


def two_free_per_switch(conf: str) -> Scheduler:
    """Two nodes busy on each 4-node switch; a -N3 --switches=1@60 job submitted at t=1 waits (Topology)."""
    topo = parse_topology_conf(conf, NAMES)
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("batch",)) for n in NAMES)
    table = NodeTable.of(Cluster(nodes, (Partition("batch", tuple(NAMES), default=True),), topo))
    profile = Profile(placement="topology")
    sched = Scheduler(placement_book(table, profile, topo), table.space, profile, UserEstimate())
    for jid, names in ((1, ("c01", "c02")), (2, ("c05", "c06"))):
        sched.submit(JobSpec(jid, 0.0, tasks=2, nodes=2, exclusive=True, time_limit=1e5, node_names=names), 0.0)
    assert len(sched.cycle(0.0).starts) == 2
    job = JobSpec(9, 1.0, tasks=3, nodes=3, exclusive=True, time_limit=100.0, switches=1, switches_wait=60.0)
    sched.submit(job, 1.0)
    assert not sched.cycle(1.0).starts
    assert topology_reason(sched, 9) == "Topology"
    return sched


REC = {"reason": "Topology", "placement_request": {"switches": 1}}
PARTS = ("topology", "data_seconds", "bytes_to_move", "egress_dollars", "data", "fragmentation", "total")
CANDIDATE = {"nodes": "c[03-04,07]", "level": "top", "leaves": 2, **dict.fromkeys(PARTS, 0.5)}


def test_within_one_fabric_only_its_switches_hold_it_and_the_wait_end_is_said() -> None:
    sched = two_free_per_switch(SWITCHES + "SwitchName=top Switches=s[1-2]\n")
    held = topology_hold(sched, 9)
    assert held == (
        "not within its --switches=1: the nodes free for it now span more than 1 switch; its --switches wait runs "
        "out at t=61 s, and then it takes them"
    )
    said = topology_advice(REC, held)
    assert "largest domain" not in said and said.startswith("free nodes exist, but not within its --switches=1:")
    started = sched.cycle(62.0).starts  # the wait is over: it takes the free nodes over both switches
    assert [s.job_id for s in started] == [9] and len(started[0].nodes) == 3


def test_separate_fabrics_hold_it_too_and_both_are_said() -> None:
    """No top switch: each switch is a fabric a job never leaves; 2 free in each never hold -N3."""
    sched = two_free_per_switch(SWITCHES)
    held = topology_hold(sched, 9)
    assert held is not None and held.startswith("not within its --switches=1, and it needs 3 nodes within one switch")
    assert "the largest domain a job may span" in held and "the most it may use in one now is 2" in held
    assert held.endswith("its --switches wait runs out at t=61 s, and then only the latter holds it")
    assert not sched.cycle(62.0).starts
    assert "--switches" not in (topology_hold(sched, 9) or "")  # past its wait: the fabrics alone


def test_without_the_servers_words_the_domain_is_blamed_only_when_no_candidate_fits() -> None:
    assert "(nor the largest domain" not in topology_advice(REC)  # not known: not claimed
    assert "(nor the largest domain" not in topology_advice(REC, None, [CANDIDATE])
    assert "its --switches=1 (nor the largest domain a job may span)" in topology_advice(REC, None, [])
    rec = {**REC, "submit_time": 1000.0, "placement_request": {"switches": 1, "switches_wait_effective": 60.0}}
    assert topology_advice(rec).endswith(f"its --switches=1; its --switches wait runs out at {stamp(1060.0)}")
    released = {**rec, "released": 5000.0}  # counted from its last release, as the engine counts it
    assert topology_advice(released).endswith(f"runs out at {stamp(5060.0)}")


def test_explain_passes_the_advice_candidates(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    rec = {**PENDING, **REC, "time_limit": 600}
    fake = SimpleNamespace(
        get=lambda job, start=True: rec,
        nodes=lambda: {"nodes": []},
        advice=lambda job: {"candidates": [CANDIDATE], "topology": None},
    )

    @contextmanager
    def client() -> Any:
        yield fake

    monkeypatch.setattr("hal.cli.live.client", client)
    explain_cli.explain(str(rec["id"]))
    said = " ".join(capsys.readouterr().out.split())
    assert "why: free nodes exist, but not within its --switches=1" in said and "largest domain" not in said

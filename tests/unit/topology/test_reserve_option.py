"""The leaf reservation as a user option: the profile's ``topology_reserve`` string, `hal simulate
--topology-reserve`, and the controller's node book."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.controller.core import Controller
from hal.controller.machine import Machine
from hal.controller.store import Store, sqlite_url
from hal.engine.nodes import NodeBook
from hal.engine.plugins.leaf_reserve import LeafReserver, parse_reserve, reserve_args, reserver_from
from hal.engine.plugins.topology import TopologySelector
from hal.engine.profile import Profile
from hal.executors.local import LocalExecutor
from hal.model.topology import Topology
from hal.sim.generate import WorkloadShape
from hal.sim.runner import SimOptions, load, machine
from tests.clusters import switch_tree, trace_and_cluster

CLUSTER = switch_tree("tree", "n", 16, 4, "4G", 4)


def test_option_string_builds_the_reserver() -> None:
    sel = TopologySelector(Topology.tree(8, (4,), ("switch",)))
    res = reserver_from(sel, "wait=3600, depth=3,strict=inf,nodes=0")
    assert (res.selector, res.wait, res.depth, res.strict, res.nodes) == (sel, 3600.0, 3, math.inf, False)
    assert reserver_from(sel, "wait=60").depth == 1 and reserver_from(sel, "wait=60").nodes
    assert parse_reserve("wait=7200,drain=1,sjf=1") == {"wait": 7200.0, "drain": 1.0, "sjf": 1.0}  # benchmark keys


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("wiat=3600", "'wiat'"),
        ("wait=3600,drain=1", "'drain'"),  # drain and sjf are benchmark-only keys
        ("wait=soon", "wait='soon'"),
        ("wait=-5", "wait=-5 must be >= 0"),
        ("wait=60,depth=-1", "depth=-1 must be a whole number >= 1"),  # as depth=0 says (QA: it said '>= 0')
        ("wait=60,depth=0", "depth=0 must be a whole number >= 1"),
        ("wait=60,nodes=-1", "nodes=-1 must be 0 or 1"),
        ("wait=60,depth=1.5", "depth=1.5"),
        ("wait=60,nodes=2", "nodes=2"),
        ("depth=3", "needs wait"),
        ("wait", "KEY=VALUE"),
        (" ", r"' ' needs wait=SECONDS"),  # it said "'' is not KEY=VALUE"
    ],
)
def test_bad_option_names_the_key(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Profile(placement="topology", topology_reserve=text)


def test_an_empty_reservation_is_refused_as_lacking_wait() -> None:
    """QA: `hal simulate --topology-reserve ''` ran no reservation in silence; every other value without wait= is
    refused. The check it asks for is this one (a profile's "" stays no reservation)."""
    with pytest.raises(ValueError, match=r"topology reserve '' needs wait=SECONDS"):
        reserve_args("")
    assert Profile(placement="topology", topology_reserve="").topology_reserve == ""


def test_reserve_needs_topology_placement() -> None:
    with pytest.raises(ValueError, match="needs placement 'topology'"):
        Profile(topology_reserve="wait=60")
    with pytest.raises(ValueError, match="needs backfill 'easy'"):  # it would change nothing: refused, not ignored
        Profile(placement="topology", backfill="conservative", topology_reserve="wait=60")
    assert Profile.from_toml('placement = "topology"\ntopology_reserve = "wait=60"').topology_reserve == "wait=60"


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    return trace_and_cluster(tmp_path, CLUSTER, WorkloadShape(jobs=150, procs=64, load=0.9, seed=5))


def test_runner_attaches_it_to_whole_node_jobs(files: tuple[Path, Path]) -> None:
    trace, cluster = files
    opts = SimOptions(Profile(placement="topology", topology_reserve="wait=600"), cluster=cluster, whole_nodes=True)
    _, workload = load(trace, opts)
    book, _, _ = machine(workload, opts)
    assert isinstance(book, NodeBook) and isinstance(book.reserver, LeafReserver)
    assert book.reserver.selector is book.select
    assert all(j.exclusive and j.nodes and j.tasks == 4 * j.nodes for j in workload.jobs)
    assert any((j.nodes or 0) > 1 for j in workload.jobs)


def test_simulate_cli_runs_with_the_option(files: tuple[Path, Path], tmp_path: Path) -> None:
    trace, cluster = files
    base = ["simulate", str(trace), "--cluster", str(cluster), "--placement", "topology", "--whole-nodes"]
    out = tmp_path / "s.json"
    opt = ["--topology-reserve", "wait=600,depth=2,strict=1800"]
    result = CliRunner().invoke(app, [*base, *opt, "--summary-out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["jobs"] == 150 and "reserve=wait=600" in summary["policy"]
    plain = tmp_path / "p.json"
    assert CliRunner().invoke(app, [*base, "--summary-out", str(plain)]).exit_code == 0
    assert summary["avg_wait"] != json.loads(plain.read_text())["avg_wait"]  # the reservation changed the schedule
    bad = CliRunner().invoke(app, [*base, "--topology-reserve", "wait=600,dpeth=2"])
    assert bad.exit_code != 0 and "dpeth" in bad.output


def test_controller_installs_it(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    profile = Profile(order="multifactor", placement="topology", topology_reserve="wait=300,depth=2")
    store = Store(sqlite_url(tmp_path / "hal.db"))
    ctl = Controller(store, Machine.load(tmp_path / "c.toml"), LocalExecutor(tmp_path / "spool"), profile)
    assert isinstance(ctl.book.select, TopologySelector) and isinstance(ctl.book.reserver, LeafReserver)
    assert ctl.book.reserver.selector is ctl.book.select and ctl.book.reserver.depth == 2
    assert ctl.book.select.index.n == 16


def test_simulate_cli_refuses_an_empty_reservation(files: tuple[Path, Path]) -> None:
    """QA: --topology-reserve '' ran without a reservation, in silence; a profile's "" still means none."""
    trace, cluster = files
    base = ["simulate", str(trace), "--cluster", str(cluster), "--placement", "topology", "--whole-nodes"]
    for empty in ("", " "):
        got = CliRunner().invoke(app, [*base, "--topology-reserve", empty])
        assert got.exit_code == 2 and "needs wait=SECONDS" in got.output, got.output

"""-w naming more nodes than -N allows is refused, as Slurm refuses it (QA: -w 'vn[000-003]' -N 2 ran on
vn[000-001]); within a -N MIN-MAX range the job runs on every listed node, and a MIN above the list adds others."""

from __future__ import annotations

import pytest

from hal.controller.directives import build_request
from hal.controller.option_values import DirectiveError

SCRIPT = "#!/bin/sh\ntrue\n"


@pytest.mark.parametrize("nodes", ["2", "1-3"])
def test_a_list_longer_than_the_most_nodes_is_refused_naming_both_counts(nodes: str) -> None:
    with pytest.raises(DirectiveError, match=rf"names 4 nodes, more than -N {nodes} allows \(at most \d\)"):
        build_request(SCRIPT, {"nodelist": "vn[000-003]", "nodes": nodes}, {}, "/tmp", 0.0)
    with pytest.raises(DirectiveError, match="Node count specification invalid"):  # from the script too
        build_request(f"#!/bin/sh\n#SBATCH -w vn[000-003] -N {nodes}\ntrue\n", {}, {}, "/tmp", 0.0)


@pytest.mark.parametrize(("nodes", "expect"), [(None, 3), ("3", 3), ("2-4", 3), ("3-3", 3), ("1-9", 3)])
def test_a_list_within_the_range_runs_on_every_listed_node(nodes: str | None, expect: int) -> None:
    asked = {"nodelist": "vn[000-002]", **({"nodes": nodes} if nodes else {})}
    req = build_request(SCRIPT, asked, {}, "/tmp", 0.0)
    assert (req.nodes, req.node_names) == (expect, ["vn000", "vn001", "vn002"])
    assert not any("minimum" in note for note in req.notes)  # not "HAL runs the job on its minimum"


def test_more_nodes_than_listed_adds_nodes_as_sbatch() -> None:
    """QA: -N 2 -w vn003 was refused; sbatch puts vn003 in a 2-node allocation (engine/listed_nodes.py)."""
    req = build_request(SCRIPT, {"nodelist": "vn[000-001]", "nodes": "3-4"}, {}, "/tmp", 0.0)
    assert (req.nodes, req.node_names) == (3, ["vn000", "vn001"])
    req = build_request("#!/bin/sh\n#SBATCH -N 2 -w vn003\ntrue\n", {}, {}, "/tmp", 0.0)
    assert (req.nodes, req.node_names) == (2, ["vn003"])
    req = build_request(SCRIPT, {"nodes": "2-4"}, {}, "/tmp", 0.0)
    assert req.nodes == 2 and any("minimum, 2 nodes" in note for note in req.notes)  # no list: planned on MIN


def test_fewer_tasks_than_nodes_cut_the_nodes_to_the_tasks_keeping_the_list() -> None:
    """QA: -N 2 -n 1 -w vn003 held a second node it could not use; sbatch sets nnodes to 1 and runs on vn003."""
    req = build_request(SCRIPT, {"nodelist": "vn003", "nodes": "2", "ntasks": "1"}, {}, "/tmp", 0.0)
    assert (req.nodes, req.node_names) == (1, ["vn003"]) and any("-N set to 1" in n for n in req.notes)
    req = build_request(SCRIPT, {"nodelist": "vn003", "nodes": "3", "ntasks": "2"}, {}, "/tmp", 0.0)
    assert req.nodes == 2  # vn003 and one the placement adds
    req = build_request(SCRIPT, {"nodelist": "vn[003-004]", "nodes": "2", "ntasks": "1"}, {}, "/tmp", 0.0)
    assert req.nodes == 2  # every listed node stays in the allocation


def test_a_host_list_with_a_slash_is_a_file_of_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """QA: sbatch reads `-w ./hosts` as a file of host names; HAL looked for a node named './hosts'."""
    import pytest
    import typer

    from hal.cli.host_file import host_file

    (tmp_path / "hosts").write_text("vn001\nvn004\n")
    assert host_file(str(tmp_path / "hosts")) == "vn001,vn004"
    assert host_file("vn[001-002]") == "vn[001-002]" and host_file(None) is None
    with pytest.raises((typer.Exit, SystemExit)):
        host_file(str(tmp_path / "missing"))

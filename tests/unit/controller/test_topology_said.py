"""What the controller says of topology: nodes' SLURM_TOPOLOGY_ADDR, a --switches count that never fits, drains."""

from __future__ import annotations

from pathlib import Path

from tests.unit.controller.topokit import ALTERNATING, BLOCKS, controller


def test_the_machine_gives_each_node_its_switches_on_a_tree_and_its_block_on_blocks(tmp_path: Path) -> None:
    """What SLURM_TOPOLOGY_ADDR is made of (executors/jobenv.py), as Slurm's topology/tree and topology/block
    set it (``top.s0.node03``; ``b1.node01``, pattern ``block.node``)."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "blocks").mkdir()
    with controller(tmp_path / "tree", ALTERNATING) as ctl:
        want = {"node03": ["top", "s0"], "node10": ["top", "s3"], "@kind": ["switch"]}
        assert ctl.machine.topology_addrs(["node03", "node10"]) == want
    with controller(tmp_path / "blocks", BLOCKS) as ctl:
        assert ctl.machine.topology_addrs(["node01", "node16"]) == {
            "node01": ["b1"],
            "node16": ["b4"],
            "@kind": ["block"],
        }


def test_a_switch_count_that_can_never_hold_the_job_is_accepted_with_a_note(tmp_path: Path) -> None:
    """Slurm accepts --switches=1 for 6 nodes on 4-node leaves and waits the maxwait for nothing: said now."""
    from hal.controller.directives import build_request

    (tmp_path / "t").mkdir()
    with controller(tmp_path / "t", ALTERNATING) as ctl:
        said = {}
        for nodes, switches in (("6", "1@10"), ("6", "2"), ("4", "1")):
            req = build_request("#!/bin/sh\n", {"nodes": nodes, "switches": switches}, {}, str(tmp_path), 0)
            ctl.submit(req, "root")
            said[nodes, switches] = [n for n in req.notes if "--switches" in n]
    assert "6 nodes never fit under 1 leaf switch(es) (the largest hold 4)" in said["6", "1@10"][0]
    assert not said["6", "2"] and not said["4", "1"]


def test_a_job_only_drained_nodes_keep_from_its_block_says_so_not_topology(tmp_path: Path) -> None:
    """QA: with one node of every 2-node block drained, -N 2 waited with reason Topology ("free nodes exist")
    when only a resume helps; with --segment or a required level it said ReqNodeNotAvail."""
    from hal.controller.drain import drain
    from hal.controller.reasons import pending_reason
    from tests.unit.controller.topokit import ADMIN, submit

    conf = "".join(f"BlockName=b{i} Nodes=node[{2 * i + 1:02d}-{2 * i + 2:02d}]\n" for i in range(4))
    (tmp_path / "b").mkdir()
    with controller(tmp_path / "b", conf + "BlockSizes=2,4\n", names="node[01-08]") as ctl:
        drain(ctl, "node[01,03,05,07]", "fans", ADMIN)
        job = submit(ctl, tmp_path, nodes="2", time="1:00")
        ctl.run_cycle()
        assert pending_reason(ctl, job) == "ReqNodeNotAvail, UnavailableNodes:node[01,03,05,07]"

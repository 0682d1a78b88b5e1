"""QA: on 4 blocks of 4 GPU nodes, four -N1 --exclusive=topo jobs hold every block (4 nodes in use, 12 blocked):
a fifth such job, or a plain -N1 job, showed only Resources, "waits for nodes to free up", and `hal explain` never
said the idle nodes were held for other jobs' blocks. The reason stays Resources (Slurm's too); the why now names
the idle held nodes and the jobs holding them."""

from __future__ import annotations

from typing import Any

from hal.cli import explain as explain_cli
from hal.engine.plugins.placement_explain import topology_hold
from hal.model.job import JobSpec, PendingReason
from tests.unit.cli.test_forecast_note import PENDING
from tests.unit.topology.test_block_named_placement import scheduler

NAMES = [f"gpu{i:02d}" for i in range(1, 17)]
CONF = "".join(f"BlockName=nvl{b + 1} Nodes=gpu[{4 * b + 1:02d}-{4 * b + 4:02d}]\n" for b in range(4))


def held_everywhere() -> Any:
    sched = scheduler(NAMES, CONF + "BlockSizes=4\n")
    for jid in range(1, 5):
        sched.submit(JobSpec(jid, 0.0, tasks=1, nodes=1, exclusive="topo", time_limit=600.0), 0.0)
    assert len(sched.cycle(0.0).starts) == 4
    return sched


def test_idle_nodes_held_for_other_jobs_blocks_are_named() -> None:
    for jid, exclusive in ((5, "topo"), (6, True)):
        sched = held_everywhere()
        sched.submit(JobSpec(jid, 1.0, tasks=1, nodes=1, exclusive=exclusive, time_limit=600.0), 1.0)
        assert not sched.cycle(1.0).starts
        assert sched.reason_of(jid) is PendingReason.RESOURCES
        held = topology_hold(sched, jid)
        assert held is not None and "gpu02, gpu03, gpu04 (job 1)" in held, held
        assert "held for --exclusive=topo jobs 1, 2, 3, 4" in held
        assert held.startswith("it goes only into blocks no other job uses") == (jid == 5)


def test_not_said_when_the_held_nodes_would_not_start_it() -> None:
    sched = held_everywhere()
    sched.submit(JobSpec(7, 1.0, tasks=13, nodes=13, exclusive=True, time_limit=600.0), 1.0)  # 16 nodes, 4 in use
    assert not sched.cycle(1.0).starts
    assert topology_hold(sched, 7) is None


def test_explain_gives_the_servers_words_for_a_resources_wait(capsys: Any, monkeypatch: Any) -> None:
    held = "idle nodes gpu02 are held for --exclusive=topo job 1: ..."
    rec = {**PENDING, "reason": "Resources", "state": "PENDING", "id": 6}

    class Client:
        def __enter__(self) -> Client:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, job: str, start: bool = False) -> dict[str, Any]:
            return rec

        def nodes(self) -> dict[str, Any]:
            return {"nodes": []}

        def advice(self, job: str) -> dict[str, Any]:
            return {"topology": held}

    monkeypatch.setattr("hal.cli.live.client", Client)
    explain_cli.explain("6")
    said = " ".join(capsys.readouterr().out.split())
    assert f"why: free nodes exist, but {held}" in said
    assert "waits for nodes to free up" not in said


def test_a_drained_node_in_a_held_block_is_not_called_idle() -> None:
    """QA: gpu02, drained, was listed among the idle nodes job 1's block holds; freeing the block would not make
    it usable."""
    import numpy as np

    sched = held_everywhere()
    down = np.zeros(len(NAMES), dtype=bool)
    down[1] = True  # gpu02
    sched.book.set_down(down)
    sched.submit(JobSpec(6, 1.0, tasks=1, nodes=1, exclusive=True, time_limit=600.0), 1.0)
    assert not sched.cycle(1.0).starts
    held = topology_hold(sched, 6)
    assert held is not None and "gpu03, gpu04 (job 1)" in held and "gpu02" not in held, held

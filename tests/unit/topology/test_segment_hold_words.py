"""QA: on 4 blocks of 4 nodes (BlockSizes=4,8,16) with one node busy in each, a -N 8 --segment=4 job waited (reason
Topology) and `hal explain` said "free nodes exist, but not within its --segment=4 (nor the largest domain a job may
span)": 12 nodes were idle inside that domain; no block had 4 free for a segment. The why now says that."""

from __future__ import annotations

from hal.cli.explain import topology_advice
from hal.engine.plugins.placement_explain import topology_hold, topology_reason
from hal.model.job import JobSpec
from tests.unit.topology.test_block_named_placement import occupy, scheduler

NAMES = [f"g{i:02d}" for i in range(1, 17)]
CONF = "".join(f"BlockName=b{b + 1} Nodes=g[{4 * b + 1:02d}-{4 * b + 4:02d}]\n" for b in range(4))
BLOCKS = CONF + "BlockSizes=4,8,16\n"


def waiting(conf: str, busy: tuple[str, ...], nodes: int = 8) -> tuple[object, str | None]:
    sched = scheduler(NAMES, conf)
    occupy(sched, busy)
    sched.submit(JobSpec(40, 1.0, tasks=nodes, nodes=nodes, exclusive=True, time_limit=60.0, segment=4), 1.0)
    assert not sched.cycle(1.0).starts
    assert topology_reason(sched, 40) == "Topology"
    return sched, topology_hold(sched, 40)


def test_no_block_with_a_segments_free_nodes_is_said_not_the_domain() -> None:
    _, held = waiting(BLOCKS, ("g01", "g05", "g09", "g13"))
    assert held == (
        "it needs 2 segments of 4 nodes, each within one block (--segment=4); no block has 4 free nodes now (the "
        "most free in one is 3), so it waits for jobs there to end"
    )
    said = topology_advice({"reason": "Topology", "placement_request": {"segment": 4}}, held)
    assert said.startswith("free nodes exist, but it needs 2 segments") and "largest domain" not in said


def test_too_few_whole_segments_are_counted() -> None:
    """Two whole blocks free hold 2 segments; -N 12 needs 3."""
    _, held = waiting(BLOCKS, ("g01", "g05"), nodes=12)
    assert held is not None and "no block" not in held
    assert held.startswith("it needs 3 segments of 4 nodes, each within one block (--segment=4); the blocks free now")
    assert "hold only 2 whole segments" in held


def test_without_the_servers_words_a_segment_job_is_not_told_the_domain_is_too_small() -> None:
    """The advice's candidates keep whole segments: none free says nothing of the domain's room."""
    said = topology_advice({"reason": "Topology", "placement_request": {"segment": 4}}, None, [])
    assert said == "free nodes exist, but not within its --segment=4"
    switches = topology_advice({"reason": "Topology", "placement_request": {"switches": 1}}, None, [])
    assert switches.endswith("(nor the largest domain a job may span)")  # --switches keeps its tested clause

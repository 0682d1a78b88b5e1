"""Refusals on typed GPU nodes name the real cause (QA, a[01-04] with 4 a100s, h[01-04] with 8 h100s, one partition):
-w a01 for h100s blamed "those features" and the partition, -N 2 of 5 a100s a node was told the partition's largest
node has 4 (it has 8-GPU nodes) with no shape offered, and --gpus-per-node=9 was said to ask 9 per task."""

from __future__ import annotations

import pytest

from hal.engine.nodes import NodeBook
from hal.engine.plugins.placement import RANKERS
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources


def table() -> NodeTable:
    nodes = [Node(f"a0{i}", Resources(16, 16384, 4), ("gpu:a100", *("ib",) * (i > 2)), ("gpu",)) for i in range(1, 5)]
    nodes += [Node(f"h0{i}", Resources(16, 16384, 8), ("gpu:h100",), ("gpu",)) for i in range(1, 5)]
    return NodeTable.of(Cluster(tuple(nodes), (Partition("gpu", tuple(n.name for n in nodes), default=True),)))


def req(gpus: int = 0, **kw: object) -> Request:
    spec = JobSpec(job_id=1, submit_time=0, partition="gpu", per_task=Resources(1, 0, gpus), **kw)  # type: ignore[arg-type]
    return request_of(spec, table().space)


def refusal(request: Request) -> str | None:
    return NodeBook(table(), RANKERS["firstfit"]).impossible(request)


@pytest.mark.parametrize(
    ("kw", "said"),
    [
        (
            {"gpus": 2, "features": ("gpu:h100",), "node_names": ("a01",)},
            "none of the nodes ['a01'] has h100 GPUs (they have a100 GPUs)",
        ),
        (
            {"gpus": 2, "features": ("gpu:h100",), "node_names": ("a01", "a03")},
            "none of the nodes ['a01', 'a03'] has h100 GPUs (they have a100 GPUs)",
        ),
        (
            {"gpus": 2, "features": ("ib",), "node_names": ("a01", "h01")},
            "none of the nodes ['a01', 'h01'] in partition 'gpu' has the features ['ib']",
        ),
        (
            {"gpus": 2, "features": ("gpu:a100",), "exclude_nodes": ("a01", "a02", "a03", "a04")},
            "no node of partition 'gpu' with a100 GPUs is left after --exclude",
        ),
        (
            {"gpus": 2, "node_names": ("a01",), "exclude_nodes": ("a01",)},
            "--exclude takes out every node of --nodelist ['a01']",
        ),
    ],
)
def test_node_lists_name_what_the_listed_nodes_lack(kw: dict[str, object], said: str) -> None:
    assert refusal(req(**kw)) == said  # type: ignore[arg-type]


def test_a_type_no_node_has_is_not_blamed_on_the_list() -> None:
    got = refusal(req(2, features=("gpu:v100",), node_names=("a01",)))
    assert got is not None and got.startswith("no node of partition 'gpu' has v100 GPUs (no node has them)"), got


def test_a_typed_per_node_ask_names_the_type_and_gets_shapes() -> None:
    got = refusal(req(0, tasks=2, nodes=2, node_gpus=5, features=("gpu:a100",)))
    assert got == (
        "needs 5 gpus per node, the largest node in partition 'gpu' with a100 GPUs has 4; spread them over nodes: "
        "ask for -n 10 --gpus-per-task=a100:1 (exactly 10 GPUs, up to 4 a node); the nearest on 3 nodes is "
        "--gpus-per-node=a100:4 -N 3 (12 GPUs)"
    )
    got = refusal(req(0, nodes=1, node_gpus=9))  # untyped: the 8-GPU nodes count
    assert got is not None and got.startswith("needs 9 gpus per node, the largest node in partition 'gpu' has 8; ")
    assert "--gpus-per-node=3 -N 3" in got, got


def test_a_one_task_job_is_told_its_gpus_go_on_one_node() -> None:
    """--gpus-per-node=9 (and --gpus=9) without -N: one task on one node, not "per task" as if asked so."""
    got = refusal(req(9))
    assert (
        got == "needs 9 gpus on one node (a one-task job runs on one node), the largest node in partition 'gpu' has 8"
    )
    got = refusal(req(9, tasks=2))
    assert got is not None and got.startswith("needs 9 gpus per task (a task runs on one node), "), got

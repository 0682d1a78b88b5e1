"""NodeBook: which nodes a request gets, and a clear message when it can never fit."""

from __future__ import annotations

import numpy as np
import pytest

from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.plugins.placement import RANKERS
from hal.engine.request import Request, request_of
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import JobSpec
from hal.model.resources import Resources


def cluster() -> Cluster:
    """Four 4-cpu nodes (n2, n3 "fast") and one GPU node in its own partition."""
    nodes = [Node(f"n{i}", Resources(4, 4096), ("fast",) if i >= 2 else (), ("batch",)) for i in range(4)]
    nodes.append(Node("g0", Resources(8, 8192, 2), ("fast",), ("batch", "gpu")))
    parts = (Partition("batch", tuple(n.name for n in nodes), default=True), Partition("gpu", ("g0",)))
    return Cluster(tuple(nodes), parts)


def book(placement: str = "firstfit") -> NodeBook:
    return NodeBook(NodeTable.of(cluster()), RANKERS[placement])


def req(tasks: int = 1, cpus: int = 1, mem: int = 0, gpus: int = 0, **kw: object) -> Request:
    spec = JobSpec(job_id=1, submit_time=0, tasks=tasks, per_task=Resources(cpus, mem, gpus), **kw)  # type: ignore[arg-type]
    return request_of(spec, NodeTable.of(cluster()).space)


def placed(alloc: NodeAlloc | None) -> list[tuple[int, list[int]]]:
    assert alloc is not None
    return [(int(n), a.tolist()) for n, a in zip(alloc.nodes, alloc.amounts, strict=True)]


def test_tasks_pack_onto_the_first_nodes_with_room() -> None:
    b = book()
    assert placed(b.allocate(req(tasks=6))) == [(0, [4, 0, 0]), (1, [2, 0, 0])]
    assert b.free[:, 0].tolist() == [0, 2, 4, 4, 8]
    assert b.free_cpus() == 18 and not b.idle()


def test_tasks_are_never_split() -> None:
    b = book()
    assert placed(b.allocate(req(tasks=3, cpus=3))) == [(0, [3, 0, 0]), (1, [3, 0, 0]), (2, [3, 0, 0])]


def test_best_fit_picks_the_fullest_node_that_fits() -> None:
    first, best = book("firstfit"), book("bestfit")
    for b in (first, best):
        b.take(NodeAlloc(np.array([0, 3]), np.array([[1, 0, 0], [3, 0, 0]])))  # n0 has 3 free, n3 has 1
    assert placed(first.allocate(req())) == [(0, [1, 0, 0])]
    assert placed(best.allocate(req())) == [(3, [1, 0, 0])]


def test_pinned_node_count_spreads_tasks_evenly() -> None:
    b = book()
    assert placed(b.allocate(req(tasks=4, cpus=1, nodes=2))) == [(0, [2, 0, 0]), (1, [2, 0, 0])]
    # 5 tasks on 2 nodes: each node must have room for 3 (rounded up); they hold 3 and 2, as Slurm's block
    # distribution allocates them (both held 3, one CPU no task used)
    assert placed(b.allocate(req(tasks=5, cpus=1, nodes=2))) == [(2, [3, 0, 0]), (3, [2, 0, 0])]
    assert b.allocate(req(tasks=10, nodes=5)) is None  # 2 per node: only n0, n1, n3 and g0 have 2 free
    assert placed(b.allocate(req(tasks=8, nodes=4))) == [(0, [2, 0, 0]), (1, [2, 0, 0]), (3, [2, 0, 0]), (4, [2, 0, 0])]


def test_exclusive_takes_whole_idle_nodes() -> None:
    b = book()
    b.take(NodeAlloc(np.array([0]), np.array([[1, 0, 0]])))
    alloc = b.allocate(req(tasks=1, exclusive=True))
    assert placed(alloc) == [(1, [4, 4096, 0])]  # n0 is busy, so n1 whole
    assert b.free[1].tolist() == [0, 0, 0]
    assert placed(b.allocate(req(tasks=2, nodes=2, exclusive=True))) == [(2, [4, 4096, 0]), (3, [4, 4096, 0])]


def test_partitions_and_features_limit_the_nodes() -> None:
    b = book()
    assert placed(b.allocate(req(partition="gpu"))) == [(4, [1, 0, 0])]
    assert placed(b.allocate(req(features=("fast",)))) == [(2, [1, 0, 0])]
    assert placed(b.allocate(req(gpus=1))) == [(4, [1, 0, 1])]


def test_release_and_state_algebra() -> None:
    b = book()
    alloc = b.allocate(req(tasks=2, cpus=2))
    assert alloc is not None
    state = b.snapshot()
    b.release(alloc)
    assert b.idle()
    assert b.state_place(state, req(tasks=6, cpus=4)) is None  # the snapshot still has n0 taken
    b.state_add(state, alloc)
    assert b.state_place(state, req(tasks=6, cpus=4)) is not None
    assert (b.state_min(state, b.table.capacity - 1) == b.table.capacity - 1).all()
    assert b.total() == (24, 24576, 2)
    assert b.nodes_of(alloc) == (0,)


@pytest.mark.parametrize(
    ("request_kw", "message"),
    [
        ({"partition": "debug"}, "unknown partition 'debug'"),
        ({"features": ("arm",)}, "no node of the partition has the features ['arm'] (no node has them)"),
        ({"tasks": 6, "nodes": 6}, "needs 6 nodes, the partition has 5"),
        ({"tasks": 2, "nodes": 1, "cpus": 5}, "needs 10 cpus per node, the largest node here has 8"),
        ({"cpus": 9}, "needs 9 cpus on one node (a one-task job runs on one node), the largest node here has 8"),
        ({"gpus": 3}, "needs 3 gpus on one node (a one-task job runs on one node), the largest node here has 2"),
        ({"tasks": 25}, "needs 25 cpus in all, the partition has 24"),
        ({"tasks": 2, "gpus": 1, "partition": "gpu", "cpus": 5}, "needs 10 cpus in all, the partition has 8"),
        (
            {"mem": 9000},
            "needs 9000 MB of memory on one node (a one-task job runs on one node), the largest node here has 8192",
        ),
    ],
)
def test_impossible_requests_name_the_limit(request_kw: dict[str, object], message: str) -> None:
    assert book().impossible(req(**request_kw)) == message  # type: ignore[arg-type]


def test_a_request_that_fits_is_possible_even_when_the_machine_is_busy() -> None:
    b = book()
    b.take(NodeAlloc(np.arange(5), b.table.capacity.copy()))
    assert b.impossible(req(tasks=24)) is None
    assert not b.fits(req())


def test_features_in_another_partition_are_pointed_to() -> None:
    """-C a100 on the default partition blamed the machine, though the gpu partition's nodes have them (QA)."""
    nodes = (Node("c0", Resources(4), (), ("cpu",)), Node("g0", Resources(4, 0, 2), ("a100",), ("gpu",)))
    table = NodeTable.of(Cluster(nodes, (Partition("cpu", ("c0",), default=True), Partition("gpu", ("g0",)))))
    spec = JobSpec(job_id=1, submit_time=0, partition="cpu", features=("a100",))
    got = NodeBook(table, RANKERS["firstfit"]).impossible(request_of(spec, table.space))
    assert got == "no node of partition 'cpu' has the features ['a100']; nodes of partition(s) gpu have them (-p)"


def test_any_of_several_features() -> None:
    """-C 'arm|fast': a node with either one (the '|' form was refused)."""
    b = book()
    assert placed(b.allocate(req(features=("arm|fast",)))) == [(2, [1, 0, 0])]
    assert b.impossible(req(features=("arm|sparc",))) is not None


def test_exclude_and_nodelist_refusals_name_features_only_when_asked() -> None:
    """QA: -x of every node was refused 'with those features' though no feature was asked for."""
    every = ("n0", "n1", "n2", "n3", "g0")
    assert book().impossible(req(partition="batch", exclude_nodes=every)) == (
        "no node of partition 'batch' is left after --exclude"
    )
    said = book().impossible(req(partition="gpu", features=("fast",), node_names=("n2",)))
    assert said == "none of the nodes ['n2'] is in partition 'gpu'"  # not "with those features": n2 is elsewhere

"""-N above the -w list: the listed nodes are in the allocation and others are added, as sbatch does (QA: HAL
refused `-N 2 -w vn003`)."""

from __future__ import annotations

import numpy as np

from hal.engine.nodes import NodeAlloc
from hal.engine.request import request_of
from hal.model.job import JobSpec
from tests.unit.engine.test_nodes import book, placed, req
from tests.unit.topology.test_selector import book_of


def test_listed_node_is_kept_and_others_are_added() -> None:
    b = book()
    got = b.allocate(req(tasks=3, nodes=3, node_names=("n2",)))
    assert placed(got) == [(0, [1, 0, 0]), (1, [1, 0, 0]), (2, [1, 0, 0])]  # n2 and the first two others
    only = book().allocate(req(tasks=1, nodes=1, node_names=("n2",)))
    assert placed(only) == [(2, [1, 0, 0])]  # -N equal to the list: those nodes only, as before


def test_the_job_waits_while_a_listed_node_is_busy_or_too_few_others_have_room() -> None:
    b = book()
    b.take(NodeAlloc(np.array([3]), np.array([[4, 0, 0]])))  # n3 full
    wide = req(tasks=2, cpus=4, nodes=2, node_names=("n3",))
    assert b.allocate(wide) is None and b.impossible(wide) is None  # it waits for n3, it is not refused
    b.take(NodeAlloc(np.array([0, 1, 2, 4]), np.array([[4, 0, 0]] * 3 + [[8, 0, 0]])))  # g0 has 8 CPUs
    b.release(NodeAlloc(np.array([3]), np.array([[4, 0, 0]])))
    assert b.allocate(wide) is None  # n3 is free, no other node is
    b.release(NodeAlloc(np.array([1]), np.array([[4, 0, 0]])))
    assert placed(b.allocate(wide)) == [(1, [4, 0, 0]), (3, [4, 0, 0])]


def test_a_listed_node_the_job_may_not_use_is_refused_with_its_reason() -> None:
    said = book().impossible(req(tasks=2, nodes=2, partition="gpu", node_names=("n1",)))
    assert said == "none of the nodes ['n1'] is in partition 'gpu'"
    said = book().impossible(req(tasks=2, nodes=2, node_names=("n1",), exclude_nodes=("n1",)))
    assert said is not None and "--exclude" in said
    assert book().impossible(req(tasks=6, nodes=6, node_names=("n1",))) is not None  # 5 nodes in all


def test_a_topology_selector_adds_nodes_next_to_the_listed_ones() -> None:
    b, sel, _ = book_of(32, (2, 4), ("rack", "switch"))  # 4 leaf switches of 8 nodes
    b.take(NodeAlloc(np.arange(6), np.full((6, 3), [8, 0, 0])))  # best fit alone would add nodes 6-7
    spec = JobSpec(1, 0.0, tasks=3 * 8, nodes=3, exclusive=True, node_names=("n019",))
    got = b.allocate(request_of(spec, b.table.space))
    assert got is not None and 19 in got.nodes.tolist()
    assert sel.index.span(got.nodes) == (1, 1)  # the other two in n019's own leaf (16-23)

"""The fragmentation part `hal explain` shows for a placement counts the room its leaf leaves to other jobs: a -w
job's leaf counted only its listed nodes (0.000, where the same shape without -w read 0.500, QA). A one-node job
given as a node count is counted in whole nodes, one given as tasks in tasks: that difference is kept."""

from __future__ import annotations

import numpy as np

from hal.engine.plugins.placement_parts import parts_of, room_of
from hal.engine.request import request_of
from hal.model.job import JobSpec
from tests.unit.topology.test_locality_stretch import setup


def test_a_listed_jobs_fragmentation_is_counted_on_its_whole_leaf() -> None:
    sel, _loc, book = setup()  # racks of two 2-CPU nodes
    listed = request_of(JobSpec(1, 0.0, tasks=2, nodes=2, node_names=("n000", "n002")), book.table.space)  # as -w
    plain = request_of(JobSpec(2, 0.0, tasks=2, nodes=2), book.table.space)
    two_racks = np.array([0, 2], dtype=np.intp)  # the on-premises site: four free nodes
    frag = [parts_of(sel, r, two_racks, room_of(book, r, lists=False)[0]).fragmentation for r in (listed, plain)]
    assert frag == [0.5, 0.5]
    assert parts_of(sel, listed, two_racks, room_of(book, listed)[0]).fragmentation == 0.0  # its own nodes: as it was

"""The engine's restart hooks: adopt a running job, remember an ended one, forget one for requeue."""

from __future__ import annotations

import numpy as np

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeAlloc, NodeBook
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import Dependency, DependencyKind, JobSpec, PendingReason
from hal.model.resources import Resources


def _sched() -> Scheduler:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=2, mem_mb=100)))
    return Scheduler(NodeBook(table), table.space, Profile(), UserEstimate())


def test_adopted_job_holds_its_nodes_until_finished() -> None:
    s = _sched()
    spec = JobSpec(1, 0.0, tasks=2, time_limit=100.0)
    alloc = NodeAlloc(np.array([0]), np.array([[2, 0, 0]]))
    s.adopt(spec, alloc, start=0.0, predicted_end=100.0)
    s.submit(JobSpec(2, 1.0, tasks=4, time_limit=10.0), 1.0)
    assert s.cycle(1.0).starts == []  # node 0 is taken by the adopted job
    s.finish(1, 5.0, ok=True)
    assert [p.job_id for p in s.cycle(5.0).starts] == [2]


def test_remembered_outcomes_resolve_dependencies() -> None:
    s = _sched()
    s.remember(7, ok=False)
    s.submit(JobSpec(8, 0.0, dependencies=(Dependency(DependencyKind.AFTEROK, 7),)), 0.0)
    s.submit(JobSpec(9, 0.0, dependencies=(Dependency(DependencyKind.AFTERNOTOK, 7),)), 0.0)
    assert [p.job_id for p in s.cycle(0.0).starts] == [9]
    assert s.reason_of(8) is PendingReason.DEPENDENCY_NEVER_SATISFIED


def test_forgotten_job_can_be_submitted_again() -> None:
    s = _sched()
    s.submit(JobSpec(1, 0.0), 0.0)
    s.cycle(0.0)
    s.finish(1, 1.0, ok=False)
    s.forget(1)
    s.submit(JobSpec(1, 0.0), 2.0)
    assert [p.job_id for p in s.cycle(2.0).starts] == [1]

"""A pending job's forecast names its nodes from the same forward run as its p50 (squeue's SCHEDNODES beside
START_TIME). QA (live, last2): nodes came from the plan on requested limits while the p50 came from the
predictions, so a row said "starts at T on bn001" and the job started at T on bn000, which frees first when jobs
run as predicted. Real components: a node book, the scheduler, the forecaster."""

from __future__ import annotations

from hal.engine.api import Estimate
from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.nodes import NodeBook
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, NodeTable
from hal.model.job import JobSpec
from hal.model.resources import Resources

FAST, SLOW = 10.0, 20.0  # job 1 on n000 is predicted 10 s (limit 60 s); job 2 on n001 runs to its 20 s limit


class Predicted:
    """Job 1 predicted 10 s, the rest at their limits; learns nothing."""

    name = "predicted"

    def predict(self, job: JobSpec) -> Estimate:
        p = FAST if job.job_id == 1 else float(job.time_limit or 60.0)
        return Estimate(p, p)

    def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
        return None


def test_the_forecast_nodes_are_those_of_the_p50_plan() -> None:
    table = NodeTable.of(Cluster.uniform(2, Resources(cpus=1)))
    s = Scheduler(NodeBook(table), table.space, Profile(order="fcfs", backfill="easy"), Predicted())
    s.submit(JobSpec(1, 0.0, time_limit=60.0, node_names=("n000",)), 0.0)
    s.submit(JobSpec(2, 0.0, time_limit=SLOW, node_names=("n001",)), 0.0)
    s.cycle(0.0)
    s.submit(JobSpec(3, 0.0, time_limit=30.0), 0.0)  # fits on either node
    s.cycle(0.0)
    planned, ensemble = Forecaster(members=10), Forecaster(members=10)  # no errors known: p50 on point predictions
    for _ in range(60):
        ensemble.observe(FAST, FAST)  # runs take what was predicted: every member agrees
    for f in (planned, ensemble):
        est = f.starts(s, 0.0)[3]
        assert est.requests == SLOW  # on requested limits n001 frees first...
        assert est.p50 == FAST and est.nodes == (0,), est  # ...but the p50 is n000's predicted end: n000 it is

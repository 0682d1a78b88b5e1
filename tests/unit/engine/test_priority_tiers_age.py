"""QA (MEDIUM): partitions' priority_tier was read but never used (every job's partition factor was 1 and a tier-10 job
did not go before a tier-1 one), and multifactor's age counted from submission, also while a job could not run
(held, before --begin, waiting on a dependency). Slurm orders by PriorityTier first and counts age from EligibleTime."""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.nodes import NodeBook
from hal.engine.plugins.multifactor import Multifactor, MultifactorArgs
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.cluster import Cluster, Node, NodeTable, Partition
from hal.model.job import Dependency, DependencyKind, JobSpec
from hal.model.resources import Resources

ARGS = {"weight_age": 1000, "weight_fairshare": 10000, "weight_jobsize": 1000, "weight_partition": 1000}


def machine(tiers: tuple[int, int] = (1, 10), max_age: float = 3600.0, static: str = "") -> Scheduler:
    """The QA's cluster: 2 nodes of 2 CPUs in partitions low (default, tier 1), high (tier 10) and short."""
    names = ("n1", "n2")
    nodes = tuple(Node(n, Resources(cpus=2), partitions=("low", "high", "short")) for n in names)
    low = Partition("low", names, priority_tier=tiers[0], default=True)
    parts = (low, Partition("high", names, priority_tier=tiers[1]), Partition("short", names, max_time=120))
    book = NodeBook(NodeTable.of(Cluster(nodes, parts)))
    profile = Profile(order="multifactor", order_args={**ARGS, "max_age": max_age}, half_life=600.0)
    if static:
        profile = Profile(order=static)
    return Scheduler(book, book.table.space, profile, UserEstimate())


def job(jid: int, at: float, partition: str = "", user: str = "u", limit: float = 600.0, **kw: object) -> JobSpec:
    return JobSpec(jid, at, tasks=4, time_limit=limit, user=user, partition=partition, **kw)  # type: ignore[arg-type]


def order(s: Scheduler, now: float) -> list[int]:
    s._refresh_ctx(now)
    return [w.spec.job_id for w in s.queue.ordered(s.ctx)]


def test_a_higher_tier_goes_first_and_weighs_its_partition_factor() -> None:
    s = machine()
    s.submit(job(1, 0.0), 0.0)
    s.cycle(0.0)  # job 1 runs on the whole machine
    s.submit(job(2, 0.0, "low", user="old"), 0.0)  # an hour of age: 1000 more than job 3 without tiers
    s.submit(job(3, 3600.0, "high", user="new"), 3600.0)
    assert order(s, 3600.0) == [3, 2]  # tier 10 first, although its priority is lower
    mf = s.queue.order
    assert isinstance(mf, Multifactor)
    specs = [w.spec for w in s.queue.items()]
    part = dict(zip((j.job_id for j in specs), mf.factors(specs, s.ctx)["partition"], strict=True))
    assert part == {2: 100.0, 3: 1000.0}  # PriorityJobFactor = PriorityTier, over the largest
    s.submit(job(4, 3600.0, "low,high", user="both"), 3600.0)  # -p low,high: its highest tier
    assert order(s, 3600.0)[:2] == [3, 4] or order(s, 3600.0)[:2] == [4, 3]
    s.submit(job(5, 3600.0, "short", user="short"), 3600.0)  # short keeps the default tier 1
    assert order(s, 3600.0)[-2:] == [2, 5]


def test_a_static_order_takes_tiers_first_too() -> None:
    for name in ("fcfs", "sjf"):
        s = machine(static=name)
        s.submit(job(1, 0.0), 0.0)
        s.cycle(0.0)
        s.submit(job(2, 0.0, "low"), 0.0)
        s.submit(job(3, 10.0, "high"), 10.0)
        s.submit(job(4, 20.0, "low"), 20.0)
        s.submit(job(5, 30.0, "high"), 30.0)
        assert [w.spec.job_id for w in s.queue.ordered(s.ctx)] == [3, 5, 2, 4], name
        s.finish(1, 40.0)
        assert [p.job_id for p in s.cycle(40.0).starts] == [3], name
        clone = s.clone()  # forecasts keep the tiers
        assert [w.spec.job_id for w in clone.queue.ordered(clone.ctx)] == [5, 2, 4], name
    assert machine(tiers=(1, 1), static="fcfs").queue.order.name == "fcfs"


def test_one_tier_everywhere_keeps_the_old_order() -> None:
    s = machine(tiers=(1, 1))
    s.submit(job(1, 0.0), 0.0)
    s.cycle(0.0)
    s.submit(job(2, 0.0, "low", user="old"), 0.0)
    s.submit(job(3, 3600.0, "high", user="new"), 3600.0)
    assert order(s, 3600.0) == [2, 3]
    assert s.ctx.partition_tier == {}


def test_age_counts_from_release_begin_and_dependencies_met() -> None:
    s = machine(max_age=10000.0)
    s.submit(job(1, 0.0, limit=1e6), 0.0)
    s.cycle(0.0)  # the whole machine until it ends
    s.submit(job(2, 0.0, user="a", held=True), 0.0)  # held at submission, released at 3000
    s.submit(job(3, 0.0, user="b", begin_time=2000.0), 0.0)
    s.submit(job(4, 0.0, user="c", dependencies=(Dependency(DependencyKind.AFTERANY, 1),)), 0.0)
    s.submit(job(5, 1000.0, user="d"), 1000.0)  # eligible at once, at 1000
    s.cycle(1000.0)  # job 1 is still booked (ends are the shell's to report): nothing starts
    s.finish(1, 1500.0)
    s.submit(job(6, 0.0, user="e", limit=1e6), 0.0)  # takes the machine at 1500 (the oldest), so the others stay queued
    assert [p.job_id for p in s.cycle(1500.0).starts] == [6]  # job 4's dependency is met here
    s.hold(2, False, 3000.0)
    s.cycle(3000.0)
    cols = s.queue.columns()
    assert cols.eligible is not None
    got = dict(zip((w.spec.job_id for w in s.queue.items()), cols.eligible.tolist(), strict=True))
    assert got == {2: 3000.0, 3: 2000.0, 4: 1500.0, 5: 1000.0}
    assert order(s, 4000.0) == [5, 4, 3, 2]  # by how long each could have run, not by submission (all at 0 but 5)


def test_the_spec_path_counts_age_from_begin() -> None:
    mf = Multifactor(MultifactorArgs(weight_fairshare=0, weight_jobsize=0, weight_partition=0, max_age=1000.0))
    s = machine()
    s.ctx.now = 1000.0
    got = mf.factors([job(1, 0.0), job(2, 0.0, begin_time=500.0)], s.ctx)["age"]
    assert list(got) == [1000.0, 500.0]

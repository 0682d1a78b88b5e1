"""A user's running jobs that all outlived every recorded error end at one quantile of their tails in a member.

QA (`hal queue --start`, live): 16 one-cpu blockers of one user, predicted 2 s by last2 and running on with an hour's
limit, each drawn apart log-uniformly from its elapsed time: the first of them ended within seconds in most members,
so a one-cpu job behind them (backfilled ahead of a whole-node head) was forecast now+10-20 s minute after minute
while they ran on. Real components throughout: the scheduler, last2, errors learned as the controller learns them.
"""

from __future__ import annotations

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.forward import past
from hal.engine.predict.basic import LastTwo
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.simulator import pool_for

CPUS = 16


def blocked() -> tuple[Scheduler, Forecaster, float]:
    """60 short runs of alice's teach the forecaster (ratios 0.95-1.05, as StartBoard.ended records them); then
    16 one-cpu blockers of hers (last2: ~2 s, limit one hour), a whole-node head (job 101) and a one-cpu job (102)."""
    pred = LastTwo()
    book, space = pool_for(CPUS)
    s = Scheduler(book, space, Profile(order="multifactor"), pred)
    f = Forecaster(members=10, floor_until=30)  # as hal server has it
    t = 0.0
    for jid in range(1, 61):
        run = 2.0 + 0.1 * (jid % 3)
        spec = JobSpec(jid, t, time_limit=60.0, user="alice")
        s.submit(spec, t)
        s.cycle(t)
        predicted, t = s.running[jid].item.estimate, t + run
        if not pred.on_request(spec):
            f.observe(predicted, run, "alice")
        s.finish(jid, t)
    for jid in range(61, 61 + CPUS):
        s.submit(JobSpec(jid, t, time_limit=3600.0, user="alice"), t)
    s.cycle(t)
    s.submit(JobSpec(101, t, tasks=CPUS, time_limit=600.0, user="bob"), t)
    s.submit(JobSpec(102, t + 1.0, time_limit=600.0, user="carol"), t + 1.0)
    s.cycle(t + 1.0)
    assert len(s.running) == CPUS and max(r for _, r in f.ratios) < 1.1
    return s, f, t


def test_a_job_behind_many_blockers_past_every_error_is_not_forecast_at_once() -> None:
    s, f, t0 = blocked()
    for minute in range(5, 16):  # the blockers have run 150-450x their predictions, with 45-55 minutes left
        now = t0 + 60.0 * minute
        for jid, act in list(s.running.items()):  # the controller extends them (reqtime: to their limits)
            if act.predicted_end <= now:
                s.extend(jid, past(act.predicted_end, act, now, s.profile.correction))
        s.cycle(now)
        est = f.starts(s, now)
        # One blocker alone, past every error, ends log-uniformly up to its limit: its median is 10-15 minutes
        # away. Drawn apart, the first of 16 ended 10-20 s after now in most members.
        assert est[102].p50 - now >= 120.0, (minute, est[102].p50 - now)
        assert est[101].p50 - now >= 120.0

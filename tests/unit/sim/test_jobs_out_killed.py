"""--jobs-out writes the run each job had: a run the stretch pushed past the job's --time was killed there (counted
as killed_by_stretch, a TIMEOUT), and the file gave it the trace's run and status (QA LOW). A run cut at a
--time-min limit is written the same way; a job the simulation did not change keeps every field of its record."""

from __future__ import annotations

import io
from pathlib import Path

from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from hal.sim.metrics import summarize
from hal.sim.report import write_jobs_swf
from hal.sim.simulator import Simulation, pool_for
from hal.sim.swf import read_swf
from hal.sim.workload import to_workload

TRACE = (
    "; MaxProcs: 4\n"
    # id submit wait run procs cpu mem reqp reqtime reqmem status user group exe queue part prec think
    "1 0 -1 100 4 95 -1 4 110 -1 1 1 1 1 1 -1 -1 -1\n"  # x1.2 = 120 s > 110 s asked: killed at 110 s
    "2 0 -1 100 4 90 -1 4 200 -1 1 1 1 1 1 -1 -1 -1\n"  # x1.2 = 120 s, within its 200 s
)


def test_a_job_killed_by_the_stretch_is_written_as_it_ran_and_as_a_timeout(tmp_path: Path) -> None:
    trace = read_swf(io.StringIO(TRACE))
    jobs = to_workload(trace).jobs
    book, space = pool_for(4)
    sim = Simulation(jobs, book, space, Profile(backfill="easy"), make_predictor("user"), stretch=lambda _j, _n: 1.2)
    out = sim.run()
    assert summarize(out).killed_by_stretch == 1
    path = tmp_path / "jobs.swf"
    write_jobs_swf(path, trace, out)
    written = {r.job_id: r for r in read_swf(path).records}
    assert (written[1].run, written[1].status, written[1].cpu_time) == (110, 0, 95)  # killed at its --time
    assert (written[2].run, written[2].status, written[2].wait) == (120, 1, 110)  # stretched, ran to its end
    assert "field 4 is the simulated run time" in path.read_text()


def test_a_job_killed_at_its_time_min_cut_is_written_as_it_ran(tmp_path: Path) -> None:
    # 4 procs: job 1 holds 3 until 100, the head (job 2) needs all 4; job 3 is cut to the hole and killed there.
    text = (
        "; MaxProcs: 4\n"
        "1 0 -1 100 3 -1 -1 3 100 -1 1 1 1 1 1 -1 -1 -1\n"
        "2 1 -1 100 4 -1 -1 4 100 -1 1 1 1 1 1 -1 -1 -1\n"
        "3 2 -1 600 1 580 -1 1 1000 -1 1 2 2 1 1 -1 -1 -1\n"
    )
    trace = read_swf(io.StringIO(text))
    jobs = [JobSpec(3, 2.0, tasks=1, time_limit=1000, runtime=600, user="c", time_min=30) if j.job_id == 3 else j
            for j in to_workload(trace).jobs]  # fmt: skip
    book, space = pool_for(4)
    out = Simulation(jobs, book, space, Profile(backfill="easy"), make_predictor("user")).run()
    path = tmp_path / "jobs.swf"
    write_jobs_swf(path, trace, out)
    written = {r.job_id: r for r in read_swf(path).records}
    assert written[3].run == round(out.run[2]) < 600 and written[3].status == 0  # killed at its cut
    assert written[3].cpu_time == written[3].run  # the trace's 580 s of CPU time: never more than the run
    original = {r.job_id: r for r in trace.records}
    for jid in (1, 2):  # not changed by the simulation: the input's record, field 3 aside
        written[jid].wait = original[jid].wait
        assert written[jid] == original[jid]

"""--jobs-out (QA LOW): under --stretch, waits and runs rounded one by one to whole seconds made a rebuilt schedule
overlap (a job's written end past the next one's written start on a full machine); a job whose field 5 was -1 (the
replay used field 8) was written back with -1."""

from __future__ import annotations

import io
from pathlib import Path

from hal.engine.predict.registry import make_predictor
from hal.engine.profile import Profile
from hal.sim.report import write_jobs_swf
from hal.sim.simulator import Simulation, pool_for
from hal.sim.swf import read_swf
from hal.sim.workload import to_workload

# three jobs that each take the whole machine, one after another; x1.206 makes every start and end fractional
TRACE = (
    "; MaxProcs: 4\n"
    "1 0 -1 100 4 -1 -1 4 1000 -1 1 1 1 1 1 -1 -1 -1\n"
    "2 0 -1 100 -1 -1 -1 4 1000 -1 1 1 1 1 1 -1 -1 -1\n"  # no field 5: runs on field 8's 4 processors
    "3 0 -1 100 4 -1 -1 4 1000 -1 1 1 1 1 1 -1 -1 -1\n"
)


def test_written_jobs_never_overlap_and_keep_the_processors_they_ran_on(tmp_path: Path) -> None:
    trace = read_swf(io.StringIO(TRACE))
    book, space = pool_for(4)
    out = Simulation(
        to_workload(trace).jobs, book, space, Profile(backfill="easy"), make_predictor("user"), stretch=lambda *_: 1.206
    ).run()
    assert list(out.start) == [0.0, 120.6, 241.2]
    path = tmp_path / "jobs.swf"
    write_jobs_swf(path, trace, out)
    written = sorted(read_swf(path).records, key=lambda r: r.job_id)
    spans = [(r.submit + r.wait, r.submit + r.wait + r.run) for r in written]
    assert spans == [(0, 121), (121, 241), (241, 362)], spans  # job 2 ended at 242, after job 3 started at 241
    assert written[1].procs == 4  # was -1

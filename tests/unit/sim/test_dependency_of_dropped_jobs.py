"""With --cluster, a job skipped for its partition's max_time or refused at submission as larger than its partition
takes none of its dependants (SWF field 17) down: they start without waiting for it, as the trace's note says and
as without --cluster, and --window does not change that (QA: every dependant was refused, in a cascade)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hal.sim.runner import SimOptions, load, run_workload

TRACE = """\
; MaxProcs: 10
; HalPartitions: 1=batch 2=short
1 0 0 100 4 -1 -1 4 5000 -1 1 1 1 -1 -1 2 -1 -1
2 10 0 100 4 -1 -1 4 200 -1 1 1 1 -1 -1 1 1 -1
3 20 0 100 10 -1 -1 10 200 -1 1 1 1 -1 -1 2 -1 -1
4 30 0 100 2 -1 -1 2 200 -1 1 1 1 -1 -1 1 3 -1
5 40 0 100 2 -1 -1 2 200 -1 1 1 1 -1 -1 1 4 -1
"""
CLUSTER = """\
name = "c"
[[nodes]]
prefix = "a"
count = 3
cpus = 2
partitions = ["batch", "short"]
[[nodes]]
prefix = "b"
count = 2
cpus = 2
partitions = ["batch"]
[[partitions]]
name = "batch"
default = true
[[partitions]]
name = "short"
max_time = 1800
"""


@pytest.mark.parametrize("window", [None, (0, 5)])
def test_dependants_of_skipped_and_refused_jobs_run(tmp_path: Path, window: tuple[int, int] | None) -> None:
    (tmp_path / "t.swf").write_text(TRACE)
    (tmp_path / "c.toml").write_text(CLUSTER)
    opts = SimOptions(cluster=tmp_path / "c.toml", window=window)
    trace, workload = load(tmp_path / "t.swf", opts)
    assert [p.message.split(":")[1].strip() for p in workload.skipped] == ["PartitionTimeLimit"]
    run = run_workload(trace, workload, opts)
    out = run.outcome
    ran = {int(j) for j in out.job_id[out.done]}
    assert ran == {2, 4, 5}
    assert len(out.rejected) == 1 and out.rejected[0].startswith("job 3: needs 10 cpus")
    assert run.summary.skipped == 2  # job 1 skipped, job 3 refused: counted as before
    at = {int(j): i for i, j in enumerate(out.job_id)}
    assert out.start[at[5]] >= out.end[at[4]]  # a link to a job that runs still holds
    assert np.isnan(out.start[at[3]])
    assert any("preceding job skipped for its partition, e.g. job 2" in n for n in workload.notes)

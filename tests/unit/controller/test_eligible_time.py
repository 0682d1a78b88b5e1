"""EligibleTime of a job that waited for a dependency is the moment a cycle found it met, kept in its stored
request across a restart; it showed the submit time (QA)."""

from __future__ import annotations

from pathlib import Path

from hal.api.views import record
from hal.cli.show import _eligible
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller
from tests.unit.controller.topokit import submit

CLUSTER = cluster_toml(name="c", nodes=2, cpus=2, mem="1G")


def test_the_moment_a_dependency_is_met_is_the_job_s_eligible_time(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        first = submit(ctl, tmp_path, time="10:00")
        after = submit(ctl, tmp_path, time="10:00", dependency=f"afterok:{first}")
        ctl.run_cycle()
        shown = record(ctl.store.get(after) or {}, 0.0, detail=True)
        assert shown["eligible"] is None and _eligible({**shown, "reason": "Dependency"}) == "Unknown"
        ended = ctl.clock()
        ctl._handle([ExecEvent(first, ExecEventKind.ENDED, ended, JobState.COMPLETED, 0, None, 0.0, 0.0, "")])
        ctl.run_cycle()
        met = record(ctl.store.get(after) or {}, 0.0, detail=True)["eligible"]
        assert met is not None and met >= ended
    with controller(tmp_path, CLUSTER) as ctl:  # a restart finds it met again: the first moment stays
        ctl.run_cycle()
        rec = record(ctl.store.get(after) or {}, 0.0, detail=True)
        assert rec["eligible"] == met and rec["submit_time"] < met

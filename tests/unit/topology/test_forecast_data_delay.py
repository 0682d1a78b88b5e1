"""A start forecast wakes where delay scheduling stops holding a job for its data's nodes (submit + [data] delay),
as the live controller's cycles do: it only woke at job ends, so a job held for a busy data node was forecast to
start when that node freed up, an hour past the deadline `hal show` printed (QA)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hal.engine.cycle import Scheduler
from hal.engine.forecast import Forecaster
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.model.job import JobSpec
from tests.unit.topology.test_locality_stretch import setup


@pytest.mark.parametrize("delay", [50.0, 1000.0])
def test_a_job_held_for_its_data_is_forecast_to_start_when_the_delay_runs_out(delay: float) -> None:
    """[data] delay 50 s, or 1,000 s and then as long as staging elsewhere takes (100 s)."""
    sel, loc, book = setup()
    sel.args = replace(sel.args, data_delay=delay, data_delay_min=0.0)
    loc.dataset("big", 1e11)
    loc.add_storage_replica("big", "site", "onprem")
    loc.add_node_replica("big", 5)
    s = Scheduler(book, book.table.space, Profile(), UserEstimate())
    s.submit(JobSpec(1, 0.0, tasks=2, time_limit=3600.0, node_names=("n005",)), 0.0)  # on the data's node
    s.cycle(0.0)
    s.submit(JobSpec(2, 0.0, tasks=2, time_limit=600.0, inputs=("big",)), 0.0)
    assert not s.cycle(0.0).starts and s.reason_of(2).value == "DataLocality"
    lapse = min(delay, 100.0)
    assert Forecaster().starts(s, 10.0)[2].p50 == lapse  # it was 3600, when the data's node frees up
    assert not s.cycle(lapse - 1).starts and [p.job_id for p in s.cycle(lapse).starts] == [2]  # as the engine does

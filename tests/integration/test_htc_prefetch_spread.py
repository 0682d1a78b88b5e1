"""QA: after a burst of instant tasks the prefetch depth was 256, so the next long tasks all went to the first
instance (1 pid, 4x the time) while the session's other slots idled. An instance holds at most its fair share."""

from __future__ import annotations

import time

from hal.htc.local import LocalManager


def test_long_tasks_after_fast_ones_spread_over_the_instances() -> None:
    with LocalManager(cpus=4) as client:
        client.register_app("pids", "hal.htc.examples:pid_of", max_instances=4)
        with client.session("pids", slots=4) as s:
            deadline = time.monotonic() + 30
            while len(set(s.map([0.05] * 8))) < 4 and time.monotonic() < deadline:
                pass  # until the four instances are up
            list(s.map([0.0] * 400))  # fast tasks: deep prefetch
            t0 = time.monotonic()
            pids = [f.result(timeout=60) for f in [s.submit(0.5) for _ in range(8)]]
            took = time.monotonic() - t0
    assert len(set(pids)) == 4, pids
    assert took < 2.5, took  # two rounds of 0.5 s, not eight

"""Which ended runs teach a live controller's start forecasts runtime errors (a real controller, its clock and its
executor's reports driven by the test): those the predictor learns from, against predictions of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.api.server import ServerOptions, build
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.engine.predict.basic import LastTwo
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Controller, Clock]]:
    ctl, _app, store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", predictor="last2", cluster=EXAMPLE)
    )
    clock = Clock()
    ctl.clock = clock
    try:
        yield ctl, clock
    finally:
        ctl.board.stop()
        executor.shutdown()
        store.close()


def submit(ctl: Controller, options: dict[str, str], seconds: int = 300) -> list[int]:
    req = build_request(f"#!/bin/sh\nsleep {seconds}\n", options, {}, "/tmp", 0)
    return [int(j) for j in ctl.submit(req, "ada").job_ids]


def end(ctl: Controller, job_id: int, when: float, state: JobState = JobState.COMPLETED) -> None:
    ctl._handle([ExecEvent(job_id, ExecEventKind.ENDED, when, state, 0, None, 0.0, 0.0, "")])


def test_only_runs_the_predictor_learns_from_its_own_predictions_teach_runtime_errors(
    live: tuple[Controller, Clock],
) -> None:
    """QA: a user's first runs, predicted at their 30-minute limit (last2 knew nothing of them), taught ratios like
    0.011, and cancelled runs were taught too; both shrank every later draw."""
    ctl, clock = live
    first = submit(ctl, {"time": "30:00"})[0]
    ctl.run_cycle()
    end(ctl, first, 1020.0)  # ran 20 s of a prediction that was only its request
    clock.now = 1030.0
    ran, cancelled = submit(ctl, {"time": "30:00"})[0], submit(ctl, {"time": "30:00"})[0]  # predicted 20 s
    ctl.run_cycle()
    assert ctl.sched.running[ran].item.estimate == 20.0
    end(ctl, cancelled, 1040.0, JobState.CANCELLED)  # cut short: says only that it needed longer
    end(ctl, ran, 1055.0)
    f = ctl.board.forecaster
    assert [r for _, r in f.ratios] == [25.0 / 20.0] and list(f.users["ada"]) == [25.0 / 20.0]
    last2 = ctl.sched.predictor
    assert isinstance(last2, LastTwo) and list(last2.history["ada"]) == [20.0, 25.0]  # it learned both of those

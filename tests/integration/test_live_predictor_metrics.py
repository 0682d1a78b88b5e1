"""What an admin sees of the live runtime predictor: a log line per gbm fit (a warning when one fails) and its
state on /metrics (which predictor plans, completions learned, fits), from a real server and real fits."""

from __future__ import annotations

import getpass
import logging
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from hal.api.metrics import PredictorCollector
from hal.controller.learning import FitLog, caught_up, fit_log, fresh_gbm, planning_with
from hal.engine.predict.basic import LastTwo, UserEstimate
from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.trees import GbmConfig
from hal.learn.trainer import BackgroundTrainer
from hal.model.job import JobSpec
from tests.integration.livekit import LiveServer
from tests.integration.test_live_learning import fill_history


def test_a_server_logs_each_fit_and_shows_its_predictor_on_metrics(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, "--estimate", "gbm")
    live.home.mkdir(parents=True)
    fill_history(live.home / "hal.db", getpass.getuser(), 600, t0=time.time() - 200_000)
    live.start()
    try:
        text = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {live.token()}"}, timeout=30).text
    finally:
        live.stop()
    assert re.search(r"runtime model fitted on 500 completions in \d+\.\d\d s", live.log.read_text())  # warm-up
    assert 'hal_predictor_planning{predictor="gbm"} 1.0' in text
    assert "hal_predictor_completions_learned 600.0" in text
    assert "hal_predictor_fits_total 1.0" in text and "hal_predictor_fit_failures_total 0.0" in text
    (stamp,) = re.findall(r"^hal_predictor_last_fit_timestamp_seconds (\S+)$", text, re.M)
    assert abs(float(stamp) - time.time()) < 600


def test_a_failing_fit_is_a_warning_with_its_error_and_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    told = FitLog()
    trainer = BackgroundTrainer(on_fit=told)
    with caplog.at_level(logging.INFO, logger="hal.controller"):
        trainer.submit([[1.0]], [0.0], GbmConfig())  # rows of the wrong width: the fit raises
        trainer.join()
    assert told.failures == 1 and told.fits == 0 and told.last_fit == 0.0
    (record,) = [r for r in caplog.records if "fit" in r.getMessage()]
    assert record.levelno == logging.WARNING and "runtime model fit on 1 completions failed" in record.getMessage()
    assert "IndexError" in record.getMessage() and "model in use" in record.getMessage()


def test_which_predictor_plans() -> None:
    gbm = fresh_gbm()
    assert planning_with(gbm) == "last2" and isinstance(fit_log(gbm), FitLog)  # untrained: its fallback plans
    assert planning_with(LastTwo()) == "last2" and fit_log(LastTwo()) is None
    assert planning_with(UserEstimate()) == "user"


def test_a_finished_background_fit_plans_at_once_on_metrics_and_in_the_status() -> None:
    """QA: /metrics said last2 after the server's background fit had ended, until the next job was predicted (the
    model was installed only then); it says what plans the next job."""
    gbm = GbmPredictor(GbmConfig(warmup=60, rounds=5), trainer=BackgroundTrainer(on_fit=FitLog()))
    jobs = [JobSpec(job_id=i, submit_time=10.0 * i, time_limit=3600.0, user=f"u{i % 3}") for i in range(60)]
    for j in jobs:
        gbm.predict(j)
    for j in jobs:
        gbm.observe(j, 100.0 + 20 * j.job_id, 1000.0 + 10 * j.job_id)  # the 60th starts the fit on the worker
    assert isinstance(gbm.trainer, BackgroundTrainer)
    gbm.trainer.join()
    ctl: Any = SimpleNamespace(sched=SimpleNamespace(predictor=gbm), lock=threading.RLock())
    (planning,) = [m for m in PredictorCollector(ctl).collect() if m.name == "hal_predictor_planning"]
    assert [(s.labels, s.value) for s in planning.samples] == [({"predictor": "gbm"}, 1.0)]
    assert planning_with(gbm) == "gbm" and caught_up(gbm).startswith("model trained, 60 completions learned")
    model = gbm.model
    assert model is not None and model.samples == 60
    gbm.predict(JobSpec(job_id=60, submit_time=2000.0, time_limit=3600.0, user="u0"))
    assert gbm.model is model  # the model that plans the next job is the one the gauge named

"""What an admin sees of the live runtime predictor: a log line per gbm fit (a warning when one fails) and its
state on /metrics (which predictor plans, completions learned, fits), from a real server and real fits."""

from __future__ import annotations

import getpass
import logging
import re
import time
from pathlib import Path

import httpx
import pytest

from hal.controller.learning import FitLog, fit_log, fresh_gbm, planning_with
from hal.engine.predict.basic import LastTwo, UserEstimate
from hal.engine.predict.trees import GbmConfig
from hal.learn.trainer import BackgroundTrainer
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

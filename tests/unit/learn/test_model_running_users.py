"""A model saved while a user's only jobs were still running (a window's cut-off, or a live server's shutdown) was
refused when loaded back: the user's last_end, -1 (none yet), was read as a damaged time."""

from __future__ import annotations

from pathlib import Path

from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import History, evaluate
from hal.learn.store import load_model, save_model
from hal.model.job import JobSpec
from hal.model.resources import Resources
from tests.unit.learn.conftest import SMALL


def test_a_user_whose_jobs_all_run_at_the_save_loads_back(sample_history: History, tmp_path: Path) -> None:
    pred = GbmPredictor(SMALL)
    evaluate(History(sample_history.jobs[:1500], sample_history.ends[:1500]), pred, "kth")
    late = JobSpec(job_id=10**6, submit_time=3e6, tasks=1, per_task=Resources(cpus=1), user="newcomer")
    pred.predict(late)
    assert pred.history.users["newcomer"].last_end == -1.0
    save_model(pred, tmp_path / "m.zip")
    again = load_model(tmp_path / "m.zip")
    assert again.history.users["newcomer"].last_end == -1.0

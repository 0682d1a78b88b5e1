"""QA (ML engineer): a meta.json version written as text was refused with "has model version 2; this HAL reads
version 2", and a file without ``learned_until`` (kept for files written before it) loaded as having learned
nothing, so scoring the very trace it was trained on gave no "results inflated" note."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.cli.sim_model import overlap_note
from hal.learn.clocks import Reach
from hal.learn.evaluate import History, reach_of
from hal.learn.store import ModelFileError, load_model, save_model
from tests.unit.learn.conftest import SAMPLE
from tests.unit.learn.test_model_meta_values import edited
from tests.unit.learn.test_models import trained


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, sample_history: History) -> Path:
    path = tmp_path_factory.mktemp("model") / "good.zip"
    save_model(trained(sample_history), path)
    return path


@pytest.mark.parametrize(
    ("version", "said"),
    [
        ("2", "has model version '2' (text, not a number); this HAL reads version 2"),
        (2.0, "has model version 2.0 (not an integer); this HAL reads version 2"),
        (True, "has model version true (not an integer)"),
        (None, "has model version none (meta.json names none)"),
        (1, "has model version 1; this HAL reads version 2"),
    ],
)
def test_a_version_of_another_type_is_named_as_such(tmp_path: Path, good: Path, version: object, said: str) -> None:
    bad = edited(good, tmp_path / "v.zip", lambda m: m.update(version=version))
    with pytest.raises(ModelFileError) as caught:
        load_model(bad)
    assert said in str(caught.value), caught.value


def test_a_file_without_learned_until_may_have_learned_every_job_it_saw(
    tmp_path: Path, good: Path, sample_history: History
) -> None:
    old = edited(good, tmp_path / "old.zip", lambda m: m.pop("learned_until"))
    pred = load_model(old)
    latest = max(j.submit_time for j in sample_history.jobs[:1500])  # trained() saw the first 1,500 submitted
    assert pred.learned_until == latest  # was 0: "learned nothing"
    reach = reach_of(pred)
    assert reach is not None and reach[0] == latest
    note = overlap_note(old, Reach.of(pred), [sample_history.jobs[0].submit_time], None)
    assert note is not None and "results inflated" in note
    assert overlap_note(old, Reach.of(pred), [latest + 1.0], None) is None  # never saw them submitted: not inflated


def test_predict_eval_says_a_model_without_learned_until_may_inflate_results(tmp_path: Path, good: Path) -> None:
    old = edited(good, tmp_path / "nolu.zip", lambda m: m.pop("learned_until"))
    result = CliRunner().invoke(app, ["predict-eval", str(SAMPLE), "--model", str(old), "--json"])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said  # loaded, not refused: files written before learned_until was kept
    assert "results inflated" in said, said

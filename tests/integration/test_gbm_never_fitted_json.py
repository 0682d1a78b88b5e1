"""QA: the machine-readable outputs of short gbm runs said gbm (simulate's policy "est=gbm", compare's "estimate",
predict-eval's "predictor") while gbm never fitted a model and every prediction was last2's, said only on stderr;
hal tune --json had no estimate at all. Each now records it in a "fallback" field, as an unusable --model is."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_estimates_and_fallback import run

UNFIT = "gbm never fitted: 300 completions < 500; every prediction was last2's"


def test_simulate_and_compare_summaries_record_a_gbm_that_never_fitted(sample: Path, tmp_path: Path) -> None:
    one, both = tmp_path / "one.json", tmp_path / "both.json"
    code, _, err = run("simulate", sample, "--window", "0:300", "--estimate", "gbm", "--summary-out", one)
    assert code == 0, err
    data = json.loads(one.read_text())
    assert data["policy"] == "easy:fcfs est=gbm" and data["fallback"] == UNFIT
    code, _, err = run("compare", sample, "--policies", "easy:fcfs,easy:sjf", "--estimate", "gbm",
                       "--window", "0:300", "--no-plots", "--summary-out", both)  # fmt: skip
    assert code == 0, err
    rows = json.loads(both.read_text())
    assert {r["estimate"] for r in rows.values()} == {"gbm"}
    assert {r["fallback"] for r in rows.values()} == {UNFIT}
    code, _, err = run("simulate", sample, "--window", "0:300", "--estimate", "last2", "--summary-out", one)
    assert code == 0 and "fallback" not in json.loads(one.read_text())  # only a gbm that fitted nothing


def test_predict_eval_json_records_a_gbm_that_never_fitted(sample: Path) -> None:
    code, out, err = run("predict-eval", sample, "--window", "0:300", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["predictor"] == "gbm"
    assert data["fallback"] == "gbm never fitted: 300 completions < 500; every prediction was last2's"
    code, out, _ = run("predict-eval", sample, "--predictor", "last2", "--window", "0:300", "--json")
    assert code == 0 and "fallback" not in json.loads(out)


def test_a_run_of_exactly_the_warm_up_is_not_said_to_have_too_few_completions(sample: Path, tmp_path: Path) -> None:
    """QA: 500 jobs said "500 completions < 500"; the first fit came at the last completion, after every submission."""
    late = (
        "gbm fitted too late: its first fit, due at completion 500 of the 500 learned, was ready only after the last "
        "prediction; every prediction was last2's"
    )
    code, out, err = run("predict-eval", sample, "--window", "0:500", "--json")
    assert code == 0, err
    assert json.loads(out)["fallback"] == late
    assert "fewer than the 500" not in err and "first fit, due at completion 500 of the 500" in err, err
    one = tmp_path / "one.json"
    code, _, err = run("simulate", sample, "--window", "0:500", "--estimate", "gbm", "--summary-out", one)
    assert code == 0, err
    assert json.loads(one.read_text())["fallback"] == late
    assert "gbm's first fit, due at completion 500 of the 500 learned, was ready only after the last" in err, err


def test_tune_json_names_its_estimate_and_a_gbm_that_never_trained(sample: Path) -> None:
    args = ("tune", sample, "--train", "0:200", "--test", "200:200", "--budget", "6", "--json")
    code, out, err = run(*args, "--estimate", "gbm")
    assert code == 0, err
    data = json.loads(out)
    assert data["estimate"] == "gbm"
    assert data["fallback"] == (
        "gbm never fitted: the training slice has 200 jobs and the test slice has 200 jobs (< 500); every "
        "prediction in their runs was last2's"
    )
    code, out, err = run(*args)
    assert code == 0, err
    assert json.loads(out)["estimate"] == "last2" and "fallback" not in json.loads(out)


def test_summaries_record_an_unusable_model_file(sample: Path, tmp_path: Path) -> None:
    """QA: with --model naming an unusable file, only the policy label said so; predict-eval's JSON had the field."""
    bad, one, both = tmp_path / "bad.zip", tmp_path / "one.json", tmp_path / "both.json"
    bad.write_text("junk")
    code, _, err = run(
        "simulate", sample, "--window", "0:300", "--estimate", "gbm", "--model", bad, "--summary-out", one
    )
    assert code == 0, err
    assert json.loads(one.read_text())["fallback"] == "bad.zip was unusable: these are last2's predictions, not gbm's"
    code, _, err = run("compare", sample, "--policies", "easy:fcfs,easy:sjf", "--estimate", "gbm", "--model", bad,
                       "--window", "0:300", "--no-plots", "--summary-out", both)  # fmt: skip
    assert code == 0, err
    assert {r["fallback"] for r in json.loads(both.read_text()).values()} == {
        "bad.zip was unusable: these are last2's predictions, not gbm's"
    }

"""`hal compare` runs a profile file with the estimate it was tuned on, as `hal simulate --profile` does, and
labels every row with its estimate; an unusable --model falls back to last2 and every output says so (QA)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from hal.cli.main import app


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_compare_runs_a_profile_with_its_own_estimate_as_simulate_does(sample: Path, tmp_path: Path) -> None:
    """A `hal tune --profile-out` file says estimate = "last2": compare ran it on user estimates (43.73 against
    simulate's 35.45 on the sample) and its row did not say which."""
    prof = tmp_path / "tuned.toml"
    prof.write_text('order = "sjf"\nbackfill = "easy"\nestimate = "last2"\n')
    window = ("--window", "0:600")
    code, _, err = run("simulate", sample, "--profile", prof, *window, "--summary-out", tmp_path / "one.json")
    assert code == 0, err
    alone = json.loads((tmp_path / "one.json").read_text())
    assert alone["policy"] == "easy:sjf est=last2"
    both = tmp_path / "all.json"
    code, out, err = run("compare", sample, "--policies", f"easy:fcfs,{prof}", *window, "--no-plots",
                         "--summary-out", both)  # fmt: skip
    assert code == 0, err
    rows = json.loads(both.read_text())
    assert rows[str(prof)]["avg_bsld"] == alone["avg_bsld"]
    assert rows[str(prof)]["estimate"] == "last2" and rows["easy:fcfs"]["estimate"] == "user"
    assert "easy:fcfs est=user" in out and "est=last2" in out
    user = tmp_path / "user.json"  # --estimate typed: every policy's, the profile's own said and overridden
    code, _, err = run("compare", sample, "--policies", f"easy:fcfs,{prof}", *window, "--no-plots",
                       "--estimate", "user", "--summary-out", user)  # fmt: skip
    assert code == 0 and f"{prof}'s weights were tuned on last2 predictions; running with --estimate user" in err
    assert {r["estimate"] for r in json.loads(user.read_text()).values()} == {"user"}


def test_an_unusable_model_runs_last2_and_every_output_says_so(sample: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_text("junk\n")
    one = tmp_path / "one.json"
    code, _, err = run("simulate", sample, "--estimate", "gbm", "--model", bad, "--window", "0:300",
                       "--summary-out", one)  # fmt: skip
    assert code == 0  # the rule: a bad model falls back, it does not stop the run
    assert json.loads(one.read_text())["policy"] == "easy:fcfs est=last2 (fallback: bad.zip unusable)"
    assert err.startswith(f"warning: {bad} is not a readable HAL model file")
    assert err.endswith("warning: these results are last2's, not gbm's: the --model file was unusable")
    both = tmp_path / "all.json"
    code, _, err = run("compare", sample, "--policies", "easy:fcfs,easy:sjf", "--estimate", "gbm", "--model", bad,
                       "--window", "0:300", "--no-plots", "--summary-out", both)  # fmt: skip
    assert code == 0 and err.endswith("not gbm's: the --model file was unusable")
    assert {r["estimate"] for r in json.loads(both.read_text()).values()} == {"last2 (fallback: bad.zip unusable)"}


def test_predict_eval_names_a_zip_that_is_no_model_and_labels_the_fallback(sample: Path, tmp_path: Path) -> None:
    """QA: "(missing There is no item named 'meta.json' in the archive)"."""
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(wrong, "w") as zf:
        zf.writestr("notes.txt", "not a model")
    code, out, err = run("predict-eval", sample, "--model", wrong, "--window", "0:200")
    assert code == 0
    assert f"warning: {wrong} is not a HAL model: meta.json missing from the archive; falling back to last2" in err
    assert "There is no item" not in err and "last2 (fallback: wrong.zip unusable) predictions" in " ".join(out.split())
    assert err.endswith("warning: these results are last2's, not gbm's: the --model file was unusable")
    code, out, _ = run("predict-eval", sample, "--model", wrong, "--window", "0:200", "--json")
    data = json.loads(out)
    assert code == 0 and data["predictor"] == "last2"  # what predicted; why it was not the model, beside it
    assert data["fallback"] == f"{wrong} was unusable: these are last2's predictions, not gbm's"

"""QA: `simulate --profile P --model M` and `compare --policies P --model M` were refused ("--model needs --estimate
gbm or gbm-regress, not user") for a profile tuned on gbm: the check ran against --estimate's default before the
profile's own estimate applied. Refused now only when the run (or, for compare, no policy) plans with gbm, naming
where its estimate came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def model(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "m.zip"
    code, _, said = run("predict-eval", sample, "--window", "0:1500", "--save-model", path, "--json")
    assert code == 0, said
    return path


def profile(path: Path, estimate: str) -> Path:
    path.write_text(f'order = "fcfs"\nbackfill = "easy"\nestimate = "{estimate}"\n')
    return path


def test_simulate_takes_the_model_with_a_profile_tuned_on_gbm(sample: Path, model: Path, tmp_path: Path) -> None:
    gbm = profile(tmp_path / "gbm.toml", "gbm")
    code, shown, said = run("simulate", sample, "--profile", gbm, "--model", model, "--window", "1500:500")
    assert code == 0, said
    assert "easy:fcfs est=gbm" in " ".join(shown.split()), shown


def test_simulate_names_the_profile_when_it_refuses(sample: Path, model: Path, tmp_path: Path) -> None:
    last2 = profile(tmp_path / "last2.toml", "last2")
    code, _, said = run("simulate", sample, "--profile", last2, "--model", model, "--window", "1500:500")
    assert code == 2 and f"this run's is last2, the estimate {last2} was tuned on" in said, said
    code, _, said = run("simulate", sample, "--model", model, "--window", "1500:500")
    assert code == 2 and "this run's is user (--estimate's default)" in said, said


def test_compare_plans_the_gbm_policies_with_the_model(sample: Path, model: Path, tmp_path: Path) -> None:
    gbm = profile(tmp_path / "gbm.toml", "gbm")
    args = ("compare", sample, "--window", "1500:500", "--no-plots", "--model", model)
    code, shown, said = run(*args, "--policies", gbm)
    assert code == 0, said
    code, shown, said = run(*args, "--policies", f"{gbm},easy:fcfs")
    assert code == 0, said
    rows = " ".join(shown.split())
    assert "est=gbm" in rows and "easy:fcfs est=user" in rows, rows
    assert "--model plans only the policies that use gbm; not easy:fcfs (est=user)" in said, said
    last2 = profile(tmp_path / "last2.toml", "last2")
    code, _, said = run(*args, "--policies", f"{last2},easy:fcfs")
    assert code == 2 and f"{last2}: last2 ({last2}'s own); easy:fcfs: user (the default)" in said, said

"""One window rule for hal simulate, compare, tune and predict-eval (QA): START:COUNT counts the trace's usable
jobs before any is dropped, so it names the same jobs on every machine; a window past the trace's end is said
the same way everywhere; options are checked before the trace is read; predict-eval's predictor names agree."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hal.cli.main import app
from hal.sim.swf import read_swf

SAMPLE = Path(__file__).resolve().parents[2] / "src/hal/data/kth-sp2-sample.swf"


def run(*args: str | Path) -> tuple[Result, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())  # Rich wraps long lines


def ids_of(path: Path) -> list[int]:
    with path.open(newline="", encoding="utf-8") as fh:
        return sorted(int(row["job_id"]) for row in csv.DictReader(fh))


def test_a_window_names_the_same_jobs_on_every_machine_and_in_predict_eval(tmp_path: Path) -> None:
    """--procs 1 --window 0:50 replayed job ids 20..353: the window was counted after the jobs wider than the
    machine were dropped; now it holds the first 50 usable jobs' 1-processor ones, which predict-eval scores."""
    first50 = sorted(r.job_id for r in read_swf(SAMPLE).records)[:50]
    one, full, scored = tmp_path / "one.csv", tmp_path / "full.csv", tmp_path / "scored.csv"
    result, _ = run("simulate", SAMPLE, "--procs", 1, "--window", "0:50", "--csv-out", one)
    assert result.exit_code == 0, result.output
    assert run("simulate", SAMPLE, "--window", "0:50", "--csv-out", full)[0].exit_code == 0
    result, _ = run("predict-eval", SAMPLE, "--predictor", "last2", "--window", "0:50", "--csv-out", scored)
    assert result.exit_code == 0, result.output
    assert ids_of(full) == ids_of(scored) == first50
    narrow = {r.job_id for r in read_swf(SAMPLE).records if r.procs == 1}
    assert ids_of(one) == [i for i in first50 if i in narrow]


def test_a_window_past_the_end_runs_its_jobs_with_one_note_in_every_tool() -> None:
    """simulate and predict-eval ran --window 2900:500's 100 jobs while tune refused a slice past the end."""
    said = "runs past the trace's 3,000 usable jobs: it holds the last 100"
    for args in (("simulate", SAMPLE, "--window", "2900:500"),
                 ("predict-eval", SAMPLE, "--predictor", "last2", "--window", "2900:500"),
                 ("tune", SAMPLE, "--train", "0:400", "--test", "2900:500", "--budget", 4)):  # fmt: skip
        result, text = run(*args)
        assert result.exit_code == 0, result.output
        assert f"{'--test' if args[0] == 'tune' else '--window'} 2900:500 {said}" in text
    result, text = run("tune", SAMPLE, "--train", "2900:500", "--budget", 4)  # no job is left to test on
    assert result.exit_code == 2 and "none are left for the test slice" in text and "shorter --train" in text


@pytest.mark.parametrize(
    "args",
    [("simulate", SAMPLE, "--window", "3000:5"),
     ("predict-eval", SAMPLE, "--window", "3000:5"),
     ("tune", SAMPLE, "--train", "3000:5")],
)  # fmt: skip
def test_a_window_that_starts_past_the_end_is_refused_in_the_same_words(args: tuple[str | Path, ...]) -> None:
    result, text = run(*args)
    assert result.exit_code == 2
    assert f"{args[2]} 3000:5 starts past the trace's 3,000 usable jobs (numbered 0 to 2,999)" in text


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A trace that cannot be read at all: any option error must come first."""
    path = tmp_path / "t.swf"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    return path


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    path = tmp_path / "flat.toml"
    path.write_text(
        'name = "flat"\n[[nodes]]\nprefix = "n"\ncount = 4\ncpus = 4\nmem = "2G"\n'
        '[[partitions]]\nname = "batch"\ndefault = true\n',
        encoding="utf-8",
    )
    return path


def test_options_are_refused_before_the_trace_is_read(tmp_path: Path, damaged: Path, flat: Path) -> None:
    """`simulate --estimate bogus` listed the whole trace's skips first, then the error (QA)."""
    mixed = tmp_path / "mixed.swf"
    shutil.copy(SAMPLE, mixed)
    with mixed.open("a", encoding="utf-8") as fh:
        fh.write("garbage line\n")
    cases = [
        (("simulate", mixed, "--estimate", "bogus"), "unknown estimate 'bogus'"),
        (("simulate", mixed, "--cluster", flat, "--stretch"), "needs a [topology] tree"),
        (("predict-eval", mixed, "--predictor", "bogus"), "unknown predictor 'bogus'"),
        (("predict-eval", mixed, "--window", "x"), "--window 'x' is not START:COUNT"),
        (("simulate", damaged, "--cluster", flat, "--gpus"), "nodes have no GPUs"),
        (("tune", damaged, "--train", "0:10", "--cluster", flat, "--gpus"), "nodes have no GPUs"),
        (("tune", damaged, "--train", "x"), "--train 'x' is not START:COUNT"),
    ]
    for args, message in cases:
        result, text = run(*args)
        assert result.exit_code == 2, (args, text)
        assert message in text and "skipped" not in text and "gzip" not in text, (args, text)


def test_predict_eval_names_the_predictors_its_help_offers() -> None:
    """--predictor foo listed 'actual', which the help does not offer: the clairvoyant estimate is handed each
    job's run time, so it would score a perfect 1.000; it is hal simulate's."""
    result, text = run("predict-eval", SAMPLE, "--predictor", "foo")
    assert result.exit_code == 2 and "choose one of user, last2, gbm, gbm-regress" in text and "actual" not in text
    result, text = run("predict-eval", SAMPLE, "--predictor", "actual")
    assert result.exit_code == 2 and "hal simulate's clairvoyant estimate" in text
    _, help_text = run("predict-eval", "--help")
    assert "user, last2, gbm, gbm-regress" in help_text

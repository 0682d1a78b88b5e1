"""QA (capacity planner): the advised workflow, a model saved from one predict-eval window and used on the next, leaked
and learned twice; the "results inflated" note compared the model with the trace's first job, not the window's.
A model saved from --window 0:1500 now learns only the runs that ended before the next job came, and a run that
continues with --model predicts exactly as one run over the trace does."""

from __future__ import annotations

import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.sim.swf import read_swf

INFLATED = "results inflated"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.stderr.split())


def meta(path: Path) -> dict[str, float]:
    with zipfile.ZipFile(path) as zf:
        data: dict[str, float] = json.loads(zf.read("meta.json"))
    return data


@pytest.fixture(scope="module")
def first_half(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("models") / "m1.zip"
    code, said = run("predict-eval", sample, "--window", "0:1500", "--save-model", path, "--json")
    assert code == 0, said
    return path, said


def test_a_window_model_learns_only_what_had_ended_when_the_next_job_came(
    sample: Path, first_half: tuple[Path, str]
) -> None:
    path, said = first_half
    jobs = sorted(read_swf(sample).records, key=lambda r: (r.submit, r.job_id))
    cut = jobs[1500].submit
    assert meta(path)["learned_until"] < cut  # was 2,456,123, past the next job's 2,160,586
    assert f"has learned the runs that ended before t={cut:,} s" in said, said
    assert "--window 1500:COUNT" in said, said


def test_continuing_with_the_model_predicts_as_one_run(
    sample: Path, first_half: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = first_half
    code, said = run("predict-eval", sample, "--window", "1500:1500", "--model", path,
                     "--save-model", tmp_path / "m2.zip", "--csv-out", tmp_path / "w2.csv", "--json")  # fmt: skip
    assert code == 0, said
    assert INFLATED not in said, said
    assert "taken as learned, not fed to it again" in said, said
    code, said = run("predict-eval", sample, "--window", "1500:1500", "--csv-out", tmp_path / "w3.csv", "--json")
    assert code == 0, said
    assert (tmp_path / "w2.csv").read_text() == (tmp_path / "w3.csv").read_text()  # 386 of 1,500 differed
    assert meta(tmp_path / "m2.zip")["completions"] == 3000  # was 4,500 on a 3,000-job trace


def test_a_model_scored_without_a_window_learns_as_with_the_whole_window(
    sample: Path, first_half: tuple[Path, str], tmp_path: Path
) -> None:
    """QA: without --window the loaded model's runs were learned again (4,454 runs saved from a 3,000-job trace, and
    1,398 predictions differed from --window 0:3000 over the same jobs)."""
    path, _ = first_half
    notes = {}
    for name, window in (("nw", ()), ("w", ("--window", "0:3000"))):
        out = ("--csv-out", tmp_path / f"{name}.csv", "--save-model", tmp_path / f"{name}.zip", "--json")
        code, notes[name] = run("predict-eval", sample, "--model", path, *window, *out)
        assert code == 0, notes[name]
    assert (tmp_path / "nw.csv").read_text() == (tmp_path / "w.csv").read_text()
    assert meta(tmp_path / "nw.zip")["completions"] == meta(tmp_path / "w.zip")["completions"] == 3000
    assert "of the jobs scored are among them" in notes["nw"], notes["nw"]  # said, as with a window


def test_the_note_on_settings_a_loaded_model_ignores_agrees_with_them(
    sample: Path, first_half: tuple[Path, str]
) -> None:
    path, _ = first_half
    code, said = run("predict-eval", sample, "--mode", "regress", "--window", "1500:300", "--model", path, "--json")
    assert code == 0 and "--mode applies to new models only" in said, said
    code, said = run("predict-eval", sample, "--mode", "regress", "--alpha", "0.7", "--window", "1500:300",
                     "--model", path, "--json")  # fmt: skip
    assert code == 0 and "--mode, --alpha apply to new models only" in said, said


def test_the_overlap_note_compares_with_the_window(sample: Path, first_half: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = first_half
    later = ("--window", "2500:500", "--model", path)
    code, said = run("simulate", sample, "--estimate", "gbm", *later)
    assert code == 0 and INFLATED not in said, said
    code, said = run("predict-eval", sample, *later, "--json")
    assert code == 0 and INFLATED not in said, said
    code, said = run("simulate", sample, "--estimate", "gbm", "--window", "1000:500", "--model", path)
    assert code == 0 and INFLATED in said, said  # that window's jobs came before the model's learned_until
    compared = ("compare", sample, "--policies", "easy:fcfs", "--estimate", "gbm", "--model", path, "--plots", tmp_path)
    code, said = run(*compared, "--window", "2500:500")  # hal compare compared with the trace's first job too
    assert code == 0 and INFLATED not in said, said
    code, said = run(*compared, "--window", "1000:500")
    assert code == 0 and INFLATED in said, said


def test_a_piped_trace_with_a_model_runs_whole(sample: Path, first_half: tuple[Path, str], tmp_path: Path) -> None:
    """The overlap note read the trace's first line through a second open: from a pipe, those bytes were lost."""
    path, _ = first_half
    read_end, write_end = os.pipe()
    writer = threading.Thread(target=lambda: os.write(write_end, sample.read_bytes()) and os.close(write_end))
    writer.start()
    try:
        code, said = run("simulate", f"/dev/fd/{read_end}", "--estimate", "gbm", "--model", path,
                         "--window", "2500:500", "--summary-out", tmp_path / "s.json")  # fmt: skip
    finally:
        writer.join(timeout=30)
        os.close(read_end)
    assert code == 0, said
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["jobs"] == 500 and summary["skipped"] == 0, said

"""QA: the "results inflated" note skipped every model whose learned_until is past 2000 as a live server's, so a model
saved from a trace in Unix-epoch times scored its own jobs (0.673 against an honest 0.549) with no note, in predict-eval
and simulate alike; and a live server's model scored this site's exported history (`hal history --swf`, times from
its first submission and a UnixStartTime header) with no note either. The model's and the trace's times are now
compared on one clock, and an archive trace's 1990s start does not make a live model look as if it had seen it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.evaluate import evaluate, trace_history
from hal.learn.provenance import LIVE, Provenance
from hal.learn.store import save_model
from tests.unit.learn.conftest import SMALL

INFLATED = "results inflated"
SHIFT = 1_700_000_000


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, said
    return said


def rewritten(sample: Path, path: Path, shift: int = 0, start: str | None = None) -> Path:
    """The sample with its submit times shifted, or its UnixStartTime header replaced."""
    lines = []
    for line in sample.read_text().splitlines():
        if line.startswith("; UnixStartTime:") and start is not None:
            line = f"; UnixStartTime: {start}"
        elif line.strip() and not line.startswith(";"):
            fields = line.split()
            fields[1] = str(int(fields[1]) + shift)
            line = " ".join(fields)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def epoch(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("epoch")
    trace = rewritten(sample, folder / "epoch.swf", shift=SHIFT)
    model = folder / "ep.zip"
    run("predict-eval", trace, "--window", "0:1500", "--save-model", model, "--json")
    return trace, model


def test_a_model_of_an_epoch_time_trace_says_it_has_seen_its_jobs(epoch: tuple[Path, Path]) -> None:
    trace, model = epoch
    said = run("predict-eval", trace, "--model", model, "--window", "1000:500", "--json")
    assert INFLATED in said and "of the window's own jobs are among them" in said, said
    said = run("simulate", trace, "--estimate", "gbm", "--model", model, "--window", "1000:500")
    assert INFLATED in said, said
    for command in (("predict-eval", trace, "--json"), ("simulate", trace, "--estimate", "gbm")):
        said = run(*command, "--model", model, "--window", "2500:500")  # after all it learned: nothing to say
        assert INFLATED not in said, said


def test_a_live_model_on_this_sites_export_but_not_on_an_archive_trace(sample: Path, tmp_path: Path) -> None:
    """A model learned on the epoch clock (a live server's records), saved as the server saves it; the site's history
    exported as hal history --swf writes it: times from the first submission, and the epoch start in the header."""
    history = trace_history(rewritten(sample, tmp_path / "live.swf", shift=SHIFT))
    pred = GbmPredictor(SMALL)
    evaluate(history, pred, "live")
    model = tmp_path / "runtime-model.zip"
    save_model(pred, model, Provenance(3, time.time(), LIVE))
    site = rewritten(sample, tmp_path / "site.swf", start=str(SHIFT))
    said = run("predict-eval", site, "--model", model, "--json")
    assert INFLATED in said and "3,000 job(s) scored or run here" in said, said
    said = run("predict-eval", sample, "--model", model, "--json")  # KTH's own header: 1996, long before it learned
    assert INFLATED not in said, said

"""The trace tools (simulate, compare, tune, predict-eval) on bad input: one-line errors or notes, no traceback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hal.cli.main import app
from hal.learn.evaluate import trace_history
from hal.learn.store import save_model
from tests.unit.learn.conftest import SAMPLE
from tests.unit.learn.test_models import trained

TOPOLOGY_PROFILE = """# hal tune kth-sp2-sample.swf --train 0:400 --estimate last2 --cluster c.toml --placement topology
order = "tuned"
backfill = "easy"
backfill_order = "sjf"
estimate = "last2"
placement = "topology"

[order_args]
w_pred = 1.0
w_req = 0.5
w_age = 0.1
"""


def run(*args: str | Path) -> tuple[Result, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())  # Rich wraps long lines


def refused(result: Result, said: str, message: str) -> None:
    """Exit status 2 and the message on one `error:` line, not a traceback."""
    assert result.exit_code == 2, (said, result.exception)
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in said, said


@pytest.fixture(scope="module")
def select_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "select.zip"
    save_model(trained(trace_history(SAMPLE)), path)
    return path


@pytest.mark.parametrize("kind", ["missing", "folder", "binary"])
def test_the_rlscheduler_setup_refuses_an_unreadable_trace_in_one_line(tmp_path: Path, kind: str) -> None:
    """QA: a missing trace with --setup rlscheduler printed a 43-line traceback (TraceError was not caught)."""
    trace = {"missing": tmp_path / "lublin_256.swf", "folder": tmp_path, "binary": tmp_path / "b.swf"}[kind]
    if kind == "binary":
        trace.write_bytes(b"\x00\xff\xfe\x80" * 64)
    result, said = run("simulate", trace, "--setup", "rlscheduler", "--order", "f1", "--backfill", "easy")
    message = {"missing": "trace file not found", "folder": "is a directory", "binary": "not a text SWF file"}[kind]
    refused(result, said, message)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (TOPOLOGY_PROFILE, "t.toml: placement 'topology' needs a cluster file (--cluster)"),
        ('order = "wfp3"\nbackfill = "easy"\n[order_args]\nw_req = 1.0\n', "t.toml: wfp3 has no arguments ['w_req']"),
    ],
)
def test_compare_refuses_a_profile_it_cannot_run_before_any_run(tmp_path: Path, profile: str, message: str) -> None:
    """QA: a profile tuned with --placement topology, compared without --cluster, ended in a traceback after the
    policies before it had run; hal simulate --profile said it in one line."""
    (tmp_path / "t.toml").write_text(profile)
    policies = f"easy:fcfs,{tmp_path / 't.toml'}"
    result, said = run("compare", SAMPLE, "--policies", policies, "--no-plots", "--window", "0:300")
    refused(result, said, message)
    assert "avg bsld" not in said  # found before the first policy ran, not after it


def test_a_model_of_the_other_gbm_is_said_in_simulate_and_compare(select_model: Path) -> None:
    """QA: --estimate gbm-regress with a select model silently ran as gbm (predict-eval says it)."""
    note = f"note: {select_model} holds a select model: it predicts as gbm"
    cmds: list[list[str | Path]] = [["simulate"], ["compare", "--policies", "easy:fcfs", "--no-plots"]]
    for cmd in cmds:
        result, said = run(*cmd, SAMPLE, "--estimate", "gbm-regress", "--model", select_model, "--window", "0:200")
        assert result.exit_code == 0, said
        assert note in said and ("est=gbm " in said or "estimate=gbm " in said), said
    result, said = run("simulate", SAMPLE, "--estimate", "gbm", "--model", select_model, "--window", "0:200")
    assert result.exit_code == 0 and "holds a" not in said


def test_a_damaged_model_falls_back_to_last2_in_every_tool(tmp_path: Path, select_model: Path) -> None:
    """QA: a few damaged bytes inside a compressed member raised zlib.error through simulate, compare and
    predict-eval."""
    bad = tmp_path / "bad.zip"
    data = bytearray(select_model.read_bytes())
    data[200:204] = b"XXXX"
    bad.write_bytes(bytes(data))
    window = ["--window", "0:200"]
    cmds: list[list[str | Path]] = [
        ["simulate", SAMPLE, "--estimate", "gbm", "--model", bad, *window],
        ["compare", SAMPLE, "--estimate", "gbm", "--model", bad, "--policies", "easy:fcfs", "--no-plots", *window],
        ["predict-eval", SAMPLE, "--model", bad, *window],
    ]
    for cmd in cmds:
        result, said = run(*cmd)
        assert result.exit_code == 0 and "Traceback" not in result.output, said
        assert f"warning: {bad}: meta.json is damaged" in said and "falling back to last2 predictions" in said


@pytest.mark.parametrize(("estimate", "train", "noted"), [("gbm", "0:300", True), ("last2", "0:300", False)])
def test_tune_says_when_gbm_never_trained(tmp_path: Path, estimate: str, train: str, noted: bool) -> None:
    """QA: tune --estimate gbm on fewer jobs than its warm-up wrote estimate = "gbm" without a word."""
    out = tmp_path / "tuned.toml"
    args: list[str | Path] = [
        "tune",
        SAMPLE,
        "--train",
        train,
        "--estimate",
        estimate,
        "--budget",
        "4",
        "--profile-out",
        out,
    ]
    result, said = run(*args)
    assert result.exit_code == 0, said
    assert ("needs 500 of them for a first model; the training slice has 300 jobs" in said) is noted, said
    assert ("gbm never trained" in said) is noted and f'estimate = "{estimate}"' in out.read_text()


def test_a_gzip_compressed_trace_simulates_as_the_plain_one(tmp_path: Path) -> None:
    """The Parallel Workloads Archive ships .swf.gz: read as it is (it was 'not a text SWF file')."""
    packed = tmp_path / "kth.swf.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes(), mtime=0))
    summaries = []
    for trace in (SAMPLE, packed):
        out = tmp_path / f"{trace.name}.json"
        result, said = run("simulate", trace, "--window", "0:300", "--summary-out", out)
        assert result.exit_code == 0, said
        summaries.append({k: v for k, v in json.loads(out.read_text()).items() if "wall" not in k and "per_s" not in k})
    assert summaries[0] | {"trace": ""} == summaries[1] | {"trace": ""}


def test_predict_eval_says_when_waits_are_unknown_and_leaves_out_repeated_ids(tmp_path: Path) -> None:
    """QA: a job without a recorded wait was silently taken to end at submit + run (its predictor may hear of it
    early: Philly records no waits at all), and a repeated job id was scored twice (simulate leaves it out)."""
    trace = tmp_path / "t.swf"
    trace.write_text(
        "; MaxProcs: 1\n"
        "1 0 -1 1000 1 -1 -1 1 5000 -1 1 1 1 -1 -1 -1 -1 -1\n"
        "1 5 0 100 1 -1 -1 1 5000 -1 1 1 1 -1 -1 -1 -1 -1\n"
        "2 10 0 50 1 -1 -1 1 5000 -1 1 1 1 -1 -1 -1 -1 -1\n"
    )
    history = trace_history(trace)
    assert [j.job_id for j in history.jobs] == [1, 2] and history.no_wait == 1 and history.duplicates == 1
    result, said = run("predict-eval", trace, "--predictor", "last2")
    assert result.exit_code == 0, said
    assert "1 job(s) have no recorded wait (field 3)" in said and "1 record(s) repeat an earlier job id" in said

"""The live controller's runtime predictor: gbm learned from the accounting records of a real database,
saved and loaded across restarts of a real server, and a bad model file set aside with the reason and relearned."""

from __future__ import annotations

import getpass
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hal.controller.directives import JobRequest
from hal.controller.jobs import new_row, request_json, spec_of
from hal.controller.learning import MODEL_FILE, model_path, open_predictor, relearn, save_predictor
from hal.controller.store import Store, sqlite_url
from hal.engine.predict.gbm import GbmPredictor
from hal.learn.store import load_model
from tests.integration.livekit import LiveServer, tuned_start_log

SCRIPT = "#!/bin/sh\n#SBATCH --nodes=4 --ntasks-per-node=2 --time=60\nsleep {seconds}\n"
RUN_S = 100.0  # what this user's jobs really take, against a 60-minute request


def whole_machine() -> JobRequest:
    return JobRequest(script=SCRIPT.format(seconds=100), nodes=4, tasks=8, time_limit=3600.0)


def fill_history(db: Path, user: str, count: int, first_id: int = 1, t0: float = 1.0e6) -> float:
    """``count`` jobs that ran one after another, as the accounting table records them; returns the last end."""
    store = Store(sqlite_url(db))
    req = whole_machine()
    stored = request_json(req, [])
    end = t0
    with store.engine.begin() as conn:
        for i in range(count):
            jid, start = first_id + i, end + 5.0
            end = start + RUN_S + (i % 3)
            store.insert_jobs(conn, [new_row(jid, req, user, start - 5.0, None, stored)], start - 5.0, "submitted")
            values = {"state": "COMPLETED", "start_time": start, "end_time": end, "alloc_cpus": 8}
            store.update_job(conn, jid, values)
    store.close()
    return end


def test_gbm_relearns_the_accounting_history_and_keeps_its_model_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "hal.db"
    last = fill_history(db, "ada", 600)
    store = Store(sqlite_url(db))
    live = open_predictor("gbm", None, tmp_path)
    assert isinstance(live.predictor, GbmPredictor) and live.path == tmp_path / MODEL_FILE and not live.path.exists()
    assert relearn(live.predictor, store) == 600
    assert save_predictor(live) == tmp_path / MODEL_FILE
    probe = spec_of(10_000, whole_machine(), "ada", last + 10.0, ())
    again = open_predictor("gbm", None, tmp_path)
    assert isinstance(again.predictor, GbmPredictor) and again.predictor.learned_until == last
    assert again.predictor.model is not None
    assert relearn(again.predictor, store) == 0  # nothing ended since the model was saved
    store.close()
    newer = fill_history(db, "ada", 3, first_id=601, t0=last)
    store = Store(sqlite_url(db))
    assert relearn(again.predictor, store) == 3 and again.predictor.learned_until == newer
    nested = tmp_path / "new" / "dir" / "model.zip"  # a named file in a folder not made yet
    assert save_predictor(replace(again, path=nested)) == nested and nested.exists()
    blocked = tmp_path / "model.zip" / "x"  # under a file: cannot be written, and shutdown goes on
    (tmp_path / "model.zip").write_text("")
    assert save_predictor(replace(again, path=blocked)) is None
    guess = again.predictor.predict(probe)
    assert RUN_S <= guess.point < 4 * RUN_S  # learned, not the 3,600 s request
    store.close()


def test_a_bad_model_file_is_set_aside_and_relearned_on_last2_meanwhile(tmp_path: Path) -> None:
    db = tmp_path / "hal.db"
    fill_history(db, "ada", 5)
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"PK\x03\x04 a zip cut short")  # a damaged model file
    live = open_predictor("gbm", bad, tmp_path)
    assert isinstance(live.predictor, GbmPredictor) and live.predictor.model is None
    assert live.warning is not None and str(bad) in live.warning and "last2 until then" in live.warning
    (aside,) = tmp_path.glob("model.zip.unusable-*")  # stamped: a second damaged file does not replace it
    assert aside.read_bytes() == b"PK\x03\x04 a zip cut short" and not bad.exists()  # kept for a look, out of the way
    trace = tmp_path / "jobs.swf"
    trace.write_text("; MaxProcs: 8\n1 0 0 10 1 -1 -1 1 20 -1 1 1 1 1 -1 1 -1 -1\n")
    with pytest.raises(ValueError, match="not a HAL model file"):  # named by mistake: refused, not renamed
        open_predictor("gbm", trace, tmp_path)
    assert trace.exists()
    store = Store(sqlite_url(db))
    assert relearn(live.predictor, store) == 5  # the new model starts from the site's records
    assert live.predictor.predict(spec_of(99, whole_machine(), "ada", 2.0e6, ())).point == pytest.approx(
        RUN_S + 0.5
    )  # too few to train on: last2 of jobs 4 and 5, 100 and 101 s
    assert save_predictor(live) is None  # nothing trained yet, nothing written
    store.close()
    blocked = tmp_path / "plain-file"
    blocked.write_text("")
    with pytest.raises(ValueError, match="cannot keep the runtime model"):  # refused at start, not at shutdown
        open_predictor("gbm", blocked / "model.zip", tmp_path)
    with pytest.raises(ValueError, match="--model needs --estimate gbm"):
        open_predictor("last2", bad, tmp_path)
    with pytest.raises(ValueError, match="unknown runtime predictor"):
        open_predictor("oracle", None, tmp_path)
    assert model_path("user", None, tmp_path) is None
    with pytest.raises(ValueError, match=r"its folder .* does not exist"):  # a typo's folders are not made
        open_predictor("gbm", tmp_path / "new" / "model.zip", tmp_path)
    (tmp_path / "new").mkdir()
    fresh = open_predictor("gbm", tmp_path / "new" / "model.zip", tmp_path)  # named but not there yet: built anew
    assert isinstance(fresh.predictor, GbmPredictor) and fresh.warning is None


def _relearned(log: str) -> list[int]:
    return [int(n) for n in re.findall(r"relearned from (\d+) ended runs", log)]


def test_server_plans_on_gbm_learned_from_its_own_history(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, "--estimate", "gbm")
    live.home.mkdir(parents=True)
    fill_history(live.home / "hal.db", getpass.getuser(), 600, t0=time.time() - 200_000)
    live.start()
    try:
        with live.client() as sdk:
            first = sdk.submit(SCRIPT.format(seconds=60))["job_id"]
            deadline = time.monotonic() + 30
            while (rec := sdk.get(first))["state"] != "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.1)
            second = sdk.submit(SCRIPT.format(seconds=1))["job_id"]
            data = json.loads(live.cli("queue", "--start", "--json", check=True).stdout)
            pending = next(j for j in data["jobs"] if j["job_id"] == second)
            # Planned on what this user's jobs take (~100 s), not on the running job's 60-minute request.
            assert pending["predicted_start"] - rec["start_time"] < 600
            running = sdk.get(first)
            assert running["predicted_end"] is not None and running["predicted_end"] - rec["start_time"] < 600
            assert "PredictedEnd=" in live.cli("show", str(first), check=True).stdout
            sdk.cancel(second)
            sdk.cancel(first)
            sdk.wait(first, timeout=30)
        # sacct's default window: today's jobs (the 600 ended 1.5-2.3 days ago), all time with -S, -s or -j
        ids = lambda *a: live.cli("history", "-n", "-P", "-o", "JobID", *a, check=True).stdout.split()  # noqa: E731
        assert set(ids()) == {str(first), str(second)}
        assert len(ids("-S", "now-3days")) == 602 and len(ids("-s", "CD")) == 600 and ids("-j", "7") == ["7"]
    finally:
        live.stop()
    log = live.log.read_text()
    assert _relearned(log) == [600] and "model trained" in log
    assert "runtime model saved to" in log and (live.home / MODEL_FILE).exists()
    live.start()  # a restart loads the model and relearns only what ended after it was saved
    live.stop()
    log = live.log.read_text()
    assert f"model file {live.home / MODEL_FILE}" in log and _relearned(log)[1] <= 1


def test_server_with_an_unusable_model_file_relearns_and_saves_a_new_one(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04garbage")
    live = LiveServer(tmp_path, "--estimate", "gbm", "--model", str(bad))
    live.home.mkdir(parents=True)
    fill_history(live.home / "hal.db", getpass.getuser(), 600, t0=time.time() - 200_000)
    live.start()
    try:
        with live.client() as sdk:
            job = sdk.submit(wrap="true", options={"time": "1:00"})["job_id"]
            assert sdk.wait(job, timeout=30)["state"] == "COMPLETED"
    finally:
        live.stop()
    log = live.log.read_text()
    assert "last2 until then" in log and str(bad) in log and "WARNING" in log and "model trained" in log
    (aside,) = tmp_path.glob("broken.zip.unusable-*")
    assert aside.read_bytes() == b"PK\x03\x04garbage"
    load_model(bad)  # the model learned from the records replaced the broken file at shutdown


def test_user_estimates_skip_the_replay(tmp_path: Path) -> None:
    db = tmp_path / "hal.db"
    fill_history(db, "ada", 3)
    store = Store(sqlite_url(db))
    assert relearn(open_predictor("user", None, tmp_path).predictor, store) == 0
    assert relearn(open_predictor("last2", None, tmp_path).predictor, store) == 3
    store.close()


def test_a_requeued_jobs_earlier_runs_are_relearned_as_the_live_controller_learned_them(tmp_path: Path) -> None:
    """The live predictor hears every run of a requeued job that ended by itself (here one `hal requeue` took back
    after it COMPLETED); a relearn at start read only each job's row (its latest attempt), so a restart forgot the
    rest. A failed stage-in (not charged: nothing ran) stays unlearned, and so does a run cut short
    (controller/censored.py)."""
    import sqlalchemy as sa

    from hal.controller.store import job_attempts

    db = tmp_path / "hal.db"
    last = fill_history(db, "ada", 3)  # runs of 100-102 s
    store = Store(sqlite_url(db))
    with store.engine.begin() as conn:
        ran = "requeued by root after it ended COMPLETED"  # requeue.py's words for an ended job taken back
        for start, run, charged, cause in ((last + 10.0, 700.0, True, ran), (last + 900.0, 5.0, False, "")):
            conn.execute(
                sa.insert(job_attempts).values(
                    job_id=2, restarts=0, state="REQUEUED", cause=cause, start_time=start, end_time=start + run,
                    nodelist="", alloc_cpus=8, alloc="", charged=charged,
                )
            )  # fmt: skip
    last2 = open_predictor("last2", None, tmp_path).predictor
    assert relearn(last2, store) == 4  # three jobs and the one earlier run that ran
    spec = spec_of(9, whole_machine(), "ada", last + 2000.0, ())
    assert last2.predict(spec).point == (700.0 + RUN_S + 2) / 2  # job 3 (102 s), then the 700 s run
    store.close()


def test_a_predictor_that_fails_never_leaves_a_job_stuck_or_stops_a_restart(tmp_path: Path) -> None:
    """A fault inside the predictor (before model files were checked for it: a NaN factor) made each submission
    an HTTP 500 that still left the job queued forever, and made every restart fail. Then the job was accepted and
    failed on the next pass; now it is planned on its time limit instead (as Slurm's backfill plans) and runs, and
    a restart with the same fault comes up and does the same."""
    from hal.controller.core import Controller
    from hal.controller.directives import build_request
    from hal.controller.machine import Machine
    from hal.controller.recovery import recover
    from hal.engine.api import Estimate
    from hal.executors.local import LocalExecutor
    from hal.model.job import JobSpec
    from tests.integration.livekit import EXAMPLE

    class Broken:
        name = "broken"

        def predict(self, job: JobSpec) -> Estimate:
            raise ValueError("cannot convert float NaN to integer")

        def observe(self, job: JobSpec, runtime: float, end_time: float) -> None:
            return None

    store = Store(sqlite_url(tmp_path / "hal.db"))
    ctl = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"), predictor=Broken())
    recover(ctl)
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {}, {}, str(tmp_path), 0), "alice").job_ids
        deadline = time.monotonic() + 20
        while (store.get(job) or {}).get("state") in ("PENDING", "RUNNING") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ctl.stop()
    row = store.get(job) or {}
    assert row["state"] == "COMPLETED", row
    with store.engine.begin() as conn:  # as if the controller had died with the job still queued
        store.update_job(conn, job, {"state": "PENDING", "end_time": None}, (job, 0.0, "PENDING", "test"))
    again = Controller(store, Machine.load(EXAMPLE), LocalExecutor(tmp_path / "spool"), predictor=Broken())
    assert recover(again)["pending"] == 1  # came up
    again.start()
    try:
        deadline = time.monotonic() + 20
        while (store.get(job) or {}).get("state") in ("PENDING", "RUNNING") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        again.stop()
    assert (store.get(job) or {})["state"] == "COMPLETED"


def test_a_bad_estimate_is_refused_before_the_state_folder_is_created(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-m", "hal", "server", "--home", str(home), "--estimate", "bogus"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2 and "unknown runtime predictor 'bogus'" in done.stderr and not home.exists()


def test_a_bad_profile_is_refused_before_the_state_folder_is_created(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    bad = tmp_path / "p.toml"
    bad.write_text('order = "tuned"\n')
    typed = tmp_path / "typed.toml"  # a text where a number belongs failed every scheduling pass, forever
    typed.write_text('order = "multifactor"\nhalf_life = "7d"\n')
    for profile, message in ((bad, "needs the weights hal tune found"), (tmp_path / "none.toml", "cannot read"),
                             (typed, "half_life must be a number of seconds")):  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "hal", "server", "--home", str(home), "--profile", str(profile)],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 2 and message in " ".join(done.stderr.split()) and not home.exists(), done.stderr


def test_a_database_that_cannot_be_used_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    for url, said in (("postgresql+psycopg://postgres@127.0.0.1:1/hal", "cannot use the database"),
                      ("mysql://x@127.0.0.1/db", "no driver for it")):  # fmt: skip
        cmd = [sys.executable, "-m", "hal", "server", "--home", str(tmp_path / "h"), "--port", "0", "--database", url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2 and said in " ".join(done.stderr.split()) and "Traceback" not in done.stderr


def test_a_tuned_profile_brings_its_estimate_and_the_server_says_what_it_loaded(tmp_path: Path) -> None:
    """The profile named its predictions only in a comment, and the log never said which profile was in use."""
    said = tuned_start_log(tmp_path, "last2")
    assert "order tuned, backfill easy" in said and "tuned on last2 predictions" in said
    assert "runtime predictor last2" in said


def test_a_sigterm_during_start_up_stops_the_server(tmp_path: Path) -> None:
    """A SIGTERM after the server set its own handler and before uvicorn took signals over was dropped: the
    server then ran on for good (seen as a flaky test that terminated it right after start-up)."""
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "log"
    cmd = [sys.executable, "-m", "hal", "server", "--home", str(tmp_path / "h"), "--port", "0"]
    for said, pause in (("profile", 0.0), ("profile", 0.05), ("listening", 0.0), ("listening", 0.01)):
        with log.open("w") as out:  # points in start-up: while it builds, and as uvicorn takes over
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while said not in log.read_text() and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(pause)
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) is not None
            finally:
                proc.kill()
                proc.wait()

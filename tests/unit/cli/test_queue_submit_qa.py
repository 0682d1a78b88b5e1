"""QA findings on hal submit, hal queue and hal prio, against a fake API client: sbatch options HAL does not act
on refused on the command line, --start listing running jobs unsorted, NICE showing the factor, %m's units,
sort keys, %S/%e of pending jobs, --json without priorities."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli import squeue_format
from hal.cli.main import build

T0 = 1_800_000_000.0


def job(job_id: int, state: str = "PENDING", **extra: Any) -> dict[str, Any]:
    rec = {
        "id": str(job_id), "job_id": job_id, "array_job_id": None, "array_task_id": None, "name": f"j{job_id}",
        "user": "al", "partition": "batch", "state": state, "elapsed": 0.0, "nodelist": "", "req_nodes": 1,
        "req_cpus": 1, "req_mem_mb": 0, "req_gpus": 0, "time_limit": 600.0, "submit_time": T0, "reason": "Priority",
        "start_time": None, "end_time": None, "predicted_start": None, "predicted_start_p90": None,
    }  # fmt: skip
    return rec | extra


class FakeClient:
    """What hal queue, hal prio and hal submit ask of hal.client.Client."""

    def __init__(self, jobs: list[dict[str, Any]], prio: dict[str, Any] | None = None) -> None:
        self.jobs, self.prio = jobs, prio
        self.asked: list[str | None] = []
        self.submitted: dict[str, Any] = {}
        self.args: list[str] = []

    def nodes(self) -> dict[str, Any]:
        return {"partitions": [{"name": "batch"}], "nodes": [{"cpus": 8}]}

    def summary(self) -> dict[str, Any]:
        return {"pending": 2, "running": 1, "users": 1}

    def list(self, state: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        self.asked.append(state)
        wanted = set(state.split(",")) if state else None
        return [dict(j) for j in self.jobs if wanted is None or j["state"] in wanted]

    def priority(self) -> dict[str, Any]:
        return self.prio or {"order": "multifactor", "weights": {}, "jobs": []}

    def submit(self, script: str, **kwargs: Any) -> dict[str, Any]:
        self.submitted, self.args = kwargs["options"], kwargs["args"]
        ignored = sorted(k for k in kwargs["options"] if k in ("oversubscribe", "hint", "contiguous"))
        return {"job_id": 5, "notes": [f"accepted but not acted on by HAL: {', '.join('--' + k for k in ignored)}"]}


def run(monkeypatch: pytest.MonkeyPatch, fake: FakeClient, *args: str) -> Any:
    @contextlib.contextmanager
    def client() -> Iterator[FakeClient]:
        yield fake

    for module in ("queue", "fairshare", "submit"):
        monkeypatch.setattr(f"hal.cli.{module}.client", client)
    return CliRunner().invoke(build([args[0]]), list(args))


JOBS = [
    job(1, "RUNNING", nodelist="vn000", start_time=T0, elapsed=60.0),
    job(2, predicted_start=T0 + 900, predicted_start_p90=T0 + 1200),
    job(3, predicted_start=T0 + 300, predicted_start_p90=T0 + 600),
    job(4, reason="JobHeldUser"),
]


def test_start_lists_pending_jobs_by_their_expected_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """squeue --start is --states=PENDING --sort=S: the running job was listed (START_TIME N/A), in queue order."""
    fake = FakeClient(JOBS)
    lines = run(monkeypatch, fake, "queue", "--start").stdout.splitlines()
    assert fake.asked == ["PENDING"]
    assert [line.split()[0] for line in lines[1:4]] == ["3", "2", "4"]  # no start expected: last
    assert [lines[3].split()[i] for i in (5, -1)] == ["N/A", "N/A"]  # START_TIME (6th, as squeue) and START_P90
    got = run(monkeypatch, fake, "queue", "--start", "-t", "all", "-S", "-i").stdout.splitlines()
    assert [line.split()[0] for line in got[1:5]] == ["4", "3", "2", "1"]  # -t and -S as given
    assert got[4].split()[5] == squeue_format.when(T0)  # the running job's start


def test_json_carries_priorities_and_the_table_is_plain_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    prio = {"order": "multifactor", "weights": {}, "jobs": [{"job_id": 2, "priority": 1500.4}]}
    got = json.loads(run(monkeypatch, FakeClient(JOBS, prio), "queue", "--json").stdout)
    assert {j["job_id"]: j["priority"] for j in got["jobs"]} == {1: None, 2: 1500, 3: None, 4: None}
    lines = run(monkeypatch, FakeClient(JOBS), "queue").stdout.splitlines()
    assert lines[0] == "JOBID  PARTITION  NAME  USER  ST  TIME  NODES  NODELIST(REASON)"
    assert lines[1] == "    1  batch      j1    al    R   1:00      1  vn000"
    assert lines[4] == "    4  batch      j4    al    PD  0:00      1  (JobHeldUser)"
    bare = run(monkeypatch, FakeClient(JOBS), "queue", "-h").stdout.splitlines()
    assert bare == lines[1:5]  # no header, no summary; the same columns


def test_prio_shows_the_nice_value_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: after hal update J Nice=100, NICE showed -100 (the factor's part of the priority); sprio shows 100."""
    factors = {"age": 10.0, "fairshare": 500.0, "jobsize": 5.0, "partition": 1000.0, "qos": 0.0, "nice": -100.0}
    prio = {"order": "multifactor", "weights": {}, "jobs": [
        {"job_id": 7, "user": "al", "partition": "batch", "priority": 1415.0, "factors": factors},
        {"job_id": 8, "user": "al", "partition": "batch", "priority": 10.0, "factors": {**factors, "nice": 0.0}},
    ]}  # fmt: skip
    lines = run(monkeypatch, FakeClient([], prio), "prio").stdout.splitlines()
    assert lines[0].split()[-1] == "NICE"
    assert [line.split()[-1] for line in lines[1:]] == ["100", "0"]


def test_submit_takes_the_options_scripts_may_carry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """-s, --oversubscribe, --hint=..., --contiguous: "No such option" on the command line, while #SBATCH lines
    took them with a note; --time-min is sent as the option it now is (backfill acts on it)."""
    fake = FakeClient([])
    args = ["submit", "-s", "--hint", "nomultithread", "--time-min=5", "--contiguous", "-vv", "-M", "c1"]
    got = run(monkeypatch, fake, *args, "--wrap", "true", "--hold")
    assert got.exit_code == 0, got.output
    assert "Submitted batch job 5" in got.stdout
    assert "accepted but not acted on by HAL: --contiguous, --hint, --oversubscribe" in got.output
    sent = ("oversubscribe", "hint", "time-min", "contiguous", "verbose", "clusters")
    assert {k: fake.submitted[k] for k in sent} == {
        "oversubscribe": True, "hint": "nomultithread", "time-min": "5", "contiguous": True, "verbose": True,
        "clusters": "c1",
    }  # fmt: skip
    assert fake.submitted["hold"] is True
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    after = FakeClient([])
    assert run(monkeypatch, after, "submit", "--parsable", str(script), "-s", "--hint=x").exit_code == 0
    assert after.args == ["-s", "--hint=x"] and "oversubscribe" not in after.submitted  # the script's own words
    refused = run(monkeypatch, FakeClient([]), "submit", "--contiguous=yes", "--wrap", "true")
    assert refused.exit_code == 2 and "does not take a value" in refused.output


def test_submit_ignores_what_the_script_path_ignores() -> None:
    """The command line's table is the #SBATCH one (the client does not import the controller to read it)."""
    from hal.cli import submit
    from hal.controller import script_options as directives

    assert submit.IGNORED_VALUED == directives.IGNORED_VALUED
    assert directives.IGNORED_FLAGS - {"parsable"} == submit.IGNORED_FLAGS  # the command line acts on --parsable
    ignored = directives.IGNORED_VALUED | directives.IGNORED_FLAGS
    assert {k: v for k, v in directives.SHORT.items() if v in ignored} == submit.IGNORED_SHORT


def test_min_memory_is_exact_and_per_cpu_when_asked_so() -> None:
    """squeue %m: 1500M (HAL said 1.46G), and a --mem-per-cpu=600M -n3 job's 600M (HAL said 900M... per node)."""
    assert squeue_format.render("%m", job(1, req_mem_mb=1500)) == "1500M"
    assert squeue_format.render("%m", job(1, req_mem_mb=1800, req_cpus=3, mem_per_cpu_mb=600)) == "600M"
    assert squeue_format.render("%m", job(1, req_mem_mb=4096)) == "4G"
    assert squeue_format.render("%m", job(1, req_mem_mb=3 * 1024 * 1024)) == "3T"
    assert squeue_format.render("%m", job(1, req_mem_mb=8192, req_nodes=2, nodelist="vn[000-001]")) == "4G"
    jobs = [job(1, req_mem_mb=2000), job(2, req_mem_mb=6000, mem_per_cpu_mb=1000), job(3, req_mem_mb=1500)]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-m")] == [1, 3, 2]  # per CPU: 1000


def test_sort_keys_for_every_listed_code_and_pending_times() -> None:
    jobs = [
        job(5, workdir="/b", req_gpus=2, tres_per_node="gres/gpu:2", array_job_id=4, array_task_id=1),
        job(4, workdir="/c", req_gpus=0, array_job_id=4, array_task_id=0),
        job(9, workdir="/a", req_gpus=1, tres_per_node="gres/gpu:1"),
    ]
    for key, order in {"Z": [9, 5, 4], "-b": [5, 9, 4], "F,K": [4, 5, 9], "K": [4, 5, 9]}.items():
        assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, key)] == order, key
    with pytest.raises(ValueError, match="unknown --sort key 'Y'"):
        squeue_format.sort_jobs(jobs, "Y")
    planned, held = job(2, predicted_start=T0), job(3, reason="JobHeldUser")
    assert squeue_format.render("%S|%e", planned) == f"{squeue_format.when(T0)}|{squeue_format.when(T0 + 600)}"
    assert squeue_format.render("%S|%e", held) == "N/A|N/A"  # as the --start table says
    assert squeue_format.render("%e", job(2, predicted_start=T0, time_limit=None)) == "NONE"
    running = job(1, "RUNNING", start_time=T0, nodelist="vn000", predicted_end=T0 + 60)
    assert squeue_format.render("%e", running) == squeue_format.when(T0 + 600)  # start + limit, as hal show
    ended = [job(6, "RUNNING", start_time=T0), job(7, predicted_start=T0 - 10, time_limit=None), planned, held]
    assert [j["job_id"] for j in squeue_format.sort_jobs(ended, "e")] == [6, 2, 7, 3]


def test_plain_table_reads_like_the_rich_one() -> None:
    from hal.cli.queue import queue_table

    text = queue_table([job(12, name="x[/]" * 8)], start=True)
    assert text.splitlines()[1].split()[2] == ("x[/]" * 8)[:20]
    assert queue_table([job(12)], header=False).startswith("   12  batch")

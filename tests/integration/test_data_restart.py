"""The data plane across a killed controller (QA): a job that ended while no server ran goes through STAGE_OUT
and its afterok dependents wait for its output (a server started without [data]: test_data_parked.py)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from hal.controller.store import Store, sqlite_url
from tests.integration.livekit import (
    EXAMPLE,
    LiveServer,
    finished,
    gated,
    show,
    submit,
    until_state,
    wait_ended_offline,
    wait_running,
)


def _cluster(tmp_path: Path, data: bool) -> Path:
    path = tmp_path / ("data.toml" if data else "plain.toml")
    text = EXAMPLE.read_text()
    if data:
        text += (
            f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncatalog = "{tmp_path}/catalog.json"\n'
            f'output_uri = "{tmp_path}/out/{{job}}/{{name}}"\n'
        )
    path.write_text(text)
    return path


def _row(live: LiveServer, job: str) -> dict[str, object]:
    """The job's record as `hal show --json` has it, through the SDK (a CLI process per look cost ~0.4 s)."""
    return show(live, job)


def test_a_job_that_ended_while_no_server_ran_stages_out_before_its_dependents(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    try:
        go = tmp_path / "go"  # the writer runs until the server is killed, then writes and ends
        write = gated(go, 'head -c 20000000 /dev/urandom > "$HAL_DATA/big"')
        writer = submit(live, write, output_data="big")  # the SDK: `hal submit` is not the subject
        check = f"test -f {tmp_path}/out/{writer}/big && echo landed"
        reader = submit(live, check, dependency=f"afterok:{writer}", output="r.out")
        until_state(live, writer, "RUNNING")
        live.kill()
        go.touch()
        wait_ended_offline(live, writer)  # the writer ends while no server runs
        live.start()
        assert finished(live, reader, timeout=90) == "COMPLETED"
        assert (live.work / "r.out").read_text() == "landed\n"  # it started after the output landed
        row = _row(live, writer)
        assert row["state"] == "COMPLETED"
    finally:
        live.stop()


def test_each_task_of_a_multi_node_job_reads_its_own_nodes_cache(tmp_path: Path) -> None:
    """QA: every task's $HAL_DATA pointed at the first node's cache (on separate machines the others found
    nothing); the inputs are staged into each node, and srun gives each task its own node's folder."""
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    try:
        src = tmp_path / "ref.txt"
        src.write_text("reference\n")
        live.cli("dataset", "add", "ref", str(src), check=True)
        show = "srun sh -c 'echo \"$SLURMD_NODENAME $HAL_DATA $(cat $HAL_DATA/ref)\"' | sort"
        job = live.cli(
            "submit", "--parsable", "-N", "2", "--ntasks-per-node=1", "--input-data=ref", "-o", "mn.out",
            "--wrap", show, check=True,
        ).stdout.strip()  # fmt: skip
        assert live.cli("wait", job, "--timeout", "90").returncode == 0
        lines = (live.work / "mn.out").read_text().splitlines()
        assert len(lines) == 2, lines
        for line in lines:
            node, folder, text = line.split(" ", 2)
            assert folder == f"{tmp_path}/cache/{node}/.jobs/{job}" and text == "reference", line
    finally:
        live.stop()


def _row_of(live: LiveServer, job: str) -> dict[str, object]:
    """A job's record read from the store, with no server running."""
    return dict(Store(sqlite_url(live.home / "hal.db")).get(int(job)) or {})


def _ended_metric(live: LiveServer, state: str) -> float:
    text = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {live.token()}"}, timeout=5).text
    line = f'hal_jobs_ended_total{{state="{state}"}} '
    return sum(float(row[len(line) :]) for row in text.splitlines() if row.startswith(line))


def test_a_job_whose_output_landed_during_the_restart_is_settled_once(tmp_path: Path) -> None:
    """QA: a job that ended while no server ran was staged out by recover(), then again by resume(), whose second
    copy found the file already moved into the cache and turned the COMPLETED job FAILED (and its afterok
    dependent never ran); its end was also counted twice."""
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    try:
        go = tmp_path / "go"  # the writer runs until the server is killed, then writes and ends
        write = gated(go, 'echo abc > "$HAL_DATA/o1"')
        writer = live.cli("submit", "--parsable", "--output-data=o1", "--wrap", write, check=True).stdout.strip()
        reader = live.cli(
            "submit", "--parsable", "-d", f"afterok:{writer}", "--wrap", "true", check=True
        ).stdout.strip()
        wait_running(live, writer)
        live.kill()
        assert _row_of(live, writer)["state"] == "RUNNING"  # killed while it ran
        go.touch()
        wait_ended_offline(live, writer)  # the writer ends while no server runs
        live.start()
        assert live.cli("wait", reader, "--timeout", "60").returncode == 0
        time.sleep(1.0)  # a second stage-out, if any, would settle by now
        assert _row(live, writer)["state"] == "COMPLETED"
        assert _ended_metric(live, "COMPLETED") == 2 and _ended_metric(live, "FAILED") == 0
    finally:
        live.stop()
    events = Store(sqlite_url(live.home / "hal.db")).events_of(int(writer))
    settled = [e["cause"] for e in events if e["state"] == "STAGE_OUT" and str(e["cause"]).startswith("o1: ")]
    assert len(settled) == 1 and settled[0].startswith("o1: done"), settled
    assert [e["state"] for e in events if e["state"] in ("COMPLETED", "FAILED")] == ["COMPLETED"]
    assert (tmp_path / "out" / writer / "o1").read_text() == "abc\n"

"""HTC sessions inside `hal server`: slots are jobs of the controller's engine, the SDK's client.session()
streams tasks, REST, CLI and /metrics show per-session counters, and a batch job preempts HTC slots."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hal.clusterfile import uniform_toml
from tests.integration.livekit import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("htc"))
    live.start()
    yield live
    live.stop()


def _get(server: LiveServer, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {server.token()}"}, timeout=30)


def _post(server: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {server.token()}"})


def test_session_through_the_server(server: LiveServer) -> None:
    res = _post(server, "/v1/apps", {"name": "sq", "target": "hal.htc.examples:square", "max_instances": 2})
    assert res.status_code == 201, res.text
    assert "sq" in server.cli("app", "list", check=True).stdout
    with server.client() as sdk, sdk.session("sq", slots=2, name="squares") as s:
        assert list(s.map(range(500))) == [i * i for i in range(500)]
        metrics = _get(server, "/metrics").text
        assert 'hal_htc_session_tasks{app="sq",counter="done",session="' in metrics
        live = json.loads(server.cli("sessions", "--json", check=True).stdout)["sessions"]
        assert [r["name"] for r in live] == ["squares"] and live[0]["done"] == 500
    rows = _get(server, "/v1/sessions?all=true").json()["sessions"]
    assert rows, server.log.read_text()[-3000:]
    assert rows[-1]["done"] == 500 and rows[-1]["state"] == "closed"


def test_definitions_no_instance_could_run_are_refused_with_422(server: LiveServer) -> None:
    """QA: cpus=0 and mem_mb=-5 were registered (201), and the first session on them killed the session manager
    for everyone; instances bigger than any node (2 CPUs, 2 GiB, no GPU here) failed only once a session ran."""
    target = "hal.htc.examples:noop"
    secret = _post(server, "/v1/apps", {"name": "keyed", "target": target, "env": {"API_KEY": "s3cret"}})
    assert secret.status_code == 201, secret.text
    bob = server.new_user("bob")
    seen = httpx.get(f"{server.url}/v1/apps", headers={"Authorization": f"Bearer {bob}"}).json()["apps"]
    assert [a["env"] for a in seen if a["name"] == "keyed"] == [{"API_KEY": "***"}]  # values were shown to all
    mine = _get(server, "/v1/apps").json()["apps"]
    assert [a["env"] for a in mine if a["name"] == "keyed"] == [{"API_KEY": "s3cret"}]  # an admin's
    timed = _post(server, "/v1/apps", {"name": "timed", "target": target, "task_timeout": 2.5})
    assert timed.status_code == 201 and timed.json()["task_timeout"] == 2.5, timed.text  # it was dropped
    for values in ({"cpus": 0}, {"mem_mb": -5}, {"gpus": -1}, {"task_timeout": 0}):
        res = _post(server, "/v1/apps", {"name": "bad", "target": target, **values})
        assert res.status_code == 422, res.text
        assert next(iter(values)) in res.text
    for values, said in (
        ({"cpus": 100}, "needs 100 cpus"),
        ({"gpus": 1}, "gpu"),
        ({"mem_mb": 100000000}, "mem"),
    ):
        res = _post(server, "/v1/apps", {"name": "big", "target": target, **values})
        assert res.status_code == 422, res.text
        assert "'big' refused" in res.text and "can never run here" in res.text and said in res.text, res.text
    assert _get(server, "/v1/sessions").status_code == 200  # the session manager is still serving
    assert "big" not in [a["name"] for a in _get(server, "/v1/apps").json()["apps"]]


def test_batch_job_preempts_htc_slots_in_the_controller(server: LiveServer) -> None:
    assert _post(server, "/v1/apps", {"name": "nap", "target": "hal.htc.examples:sleep_ms"}).status_code == 201
    with server.client() as sdk, sdk.session("nap", slots=8) as s:
        out: list[Any] = []
        inputs = [10] * 4000  # 5 s of work on 8 slots: still running when the batch job is placed, even loaded
        t = threading.Thread(target=lambda: out.extend(s.map(inputs)), daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _get(server, "/v1/nodes").json() and not _all_busy(server):
            time.sleep(0.1)
        job = sdk.submit(wrap="sleep 1", options={"ntasks": 8, "job-name": "big"})["job_id"]
        rec = sdk.wait(job, timeout=60)
        assert rec["state"] == "COMPLETED"
        t.join(timeout=120)
        assert out == inputs
    row = _get(server, "/v1/sessions?all=true").json()["sessions"][-1]
    assert row["requeued"] >= 1 and row["failed"] == 0 and row["done"] == len(inputs)


def _all_busy(server: LiveServer) -> bool:
    rows = _get(server, "/v1/sessions").json()["sessions"]
    return bool(rows) and rows[0]["slots"] == 8


def test_service_instances_run_on_the_cores_of_their_slots(server: LiveServer) -> None:
    body = {"name": "cores", "target": "hal.htc.examples:cores", "max_instances": 2}
    assert _post(server, "/v1/apps", body).status_code == 201
    with server.client() as sdk, sdk.session("cores", slots=2) as s:
        seen = {tuple(cores) for cores in s.map([0.1] * 8)}
    assert seen and all(len(cores) == 1 for cores in seen), seen  # each node of the example cluster is one core


def test_instances_get_the_cores_and_gpus_of_their_slots(tmp_path: Path) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two host cores")
    cluster = tmp_path / "gpu.toml"
    cluster.write_text(uniform_toml(1, cpus=2, mem="2G", gpus=2))
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        body = {"name": "dev", "target": "hal.htc.examples:devices", "gpus": 1, "max_instances": 2}
        assert _post(live, "/v1/apps", body).status_code == 201
        with live.client() as sdk, sdk.session("dev", slots=2) as s:
            # until both instances took tasks: on a loaded machine the first one, warm sooner, took all 8 (CI)
            seen: set[tuple[tuple[int, ...], str]] = set()
            deadline = time.monotonic() + 60
            while len(seen) < 2 and time.monotonic() < deadline:
                seen |= {(tuple(cores), gpus) for cores, gpus in s.map([0.1] * 8)}
    finally:
        live.stop()
    host = sorted(os.sched_getaffinity(0))
    assert seen == {((host[0],), "0"), ((host[1],), "1")}, seen  # one core and one GPU each, none shared


def _instance_gpus(tmp_path: Path, cluster_toml: str) -> set[str | None]:
    """The CUDA_VISIBLE_DEVICES a GPU-less application's instances see under a server started with its own (7)."""
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(cluster_toml)
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        body = {"name": "nogpu", "target": "hal.htc.examples:devices", "max_instances": 1}
        assert _post(live, "/v1/apps", body).status_code == 201
        with live.client() as sdk, sdk.session("nogpu", slots=1) as s:
            return {gpus for _, gpus in s.map([0.0] * 2)}
    finally:
        live.stop()


def test_instances_without_gpus_do_not_inherit_the_servers_gpu_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service instance on a slot without GPUs was given the server's own CUDA_VISIBLE_DEVICES (batch jobs and
    srun tasks drop them, as Slurm does where nothing is allocated on a node with GPUs)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    seen = _instance_gpus(tmp_path, uniform_toml(1, cpus=2, mem="2G", gpus=2))
    assert seen == {None}, seen


def test_instances_keep_the_servers_gpus_where_hal_manages_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster without GPUs the server's CUDA_VISIBLE_DEVICES stays, as a batch job's does (Slurm unsets it
    only on nodes with GPUs configured): dropped, the instance saw every GPU of the machine."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    assert _instance_gpus(tmp_path, uniform_toml(2, cpus=1, mem="2G")) == {"7"}

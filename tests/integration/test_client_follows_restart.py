"""A Client found through HAL_HOME follows a server restarted on another port on any call, not only wait()
(SDK QA: get, list, submit and cancel kept the old port for as long as the client lived)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.client import Client
from tests.integration.livekit import LiveServer, free_port


def test_every_call_follows_the_server_to_its_new_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        monkeypatch.delenv("HAL_URL", raising=False)
        monkeypatch.delenv("HAL_TOKEN", raising=False)
        monkeypatch.setenv("HAL_HOME", str(live.home))
        with Client(workdir=str(live.work)) as c:
            job = c.submit(wrap="true")["job_id"]
            live.kill()
            live.port = free_port()  # started again elsewhere, as `hal server --port 0` would be
            live.url = f"http://127.0.0.1:{live.port}"
            live.start()
            assert str(c.get(job)["job_id"]) == str(job)  # it said "cannot reach" on the old port
            assert c.url == live.url
            assert c.submit(wrap="true")["job_id"]
    finally:
        live.stop()

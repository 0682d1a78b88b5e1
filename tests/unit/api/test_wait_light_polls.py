"""`hal wait` and Client.wait poll an array with detail=false (QA: a 10,000-task array's full record was 13 MB
and took seconds, read every second); `hal wait` prints the same; the SDK still returns the full record."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import hal.client
from hal.cli.main import build as cli
from hal.client import Client


def _serve(seen: list[dict[str, str]]) -> httpx.MockTransport:
    """An array of two tasks that ends at the third poll; a full record says so with its script."""

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        state = "COMPLETED" if len(seen) >= 3 else "RUNNING"
        tasks = [{"id": f"5_{i}", "state": state, "exit_code": 0} for i in range(2)]
        if params.get("detail") != "false":
            tasks = [{**t, "script": "#!/bin/sh\ntrue\n"} for t in tasks]
        return httpx.Response(200, content=json.dumps({"id": "5", "state": state, "tasks": tasks}))

    return httpx.MockTransport(handler)


def _client(seen: list[dict[str, str]]) -> Client:
    c = Client("http://hal.test", "token")
    c._http = httpx.Client(base_url="http://hal.test", transport=_serve(seen))
    return c


def test_polls_are_light_and_the_sdk_gets_the_full_record_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hal.client.time, "sleep", lambda s: None)
    seen: list[dict[str, str]] = []
    rec = _client(seen).wait(5)
    assert [p.get("detail") for p in seen] == ["false", "false", "false", None], seen
    assert rec["state"] == "COMPLETED" and rec["tasks"][0]["script"]
    seen.clear()
    assert "script" not in _client(seen).wait(5, detail=False)["tasks"][0]
    assert all(p.get("detail") == "false" for p in seen), seen


def test_hal_wait_asks_light_records_and_prints_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hal.client.time, "sleep", lambda s: None)
    seen: list[dict[str, str]] = []

    @contextlib.contextmanager
    def client() -> Iterator[Any]:
        yield _client(seen)

    monkeypatch.setattr("hal.cli.wait.client", client)
    got = CliRunner().invoke(cli(["wait"]), ["wait", "5"])
    assert got.exit_code == 0, got.output
    assert got.stdout == "5 COMPLETED\n"
    assert seen and all(p.get("detail") == "false" for p in seen), seen

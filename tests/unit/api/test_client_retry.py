"""A submission whose answer is lost after it went out is asked again with the same idempotency key (the server
answers the first job again); one that never reached a server fails at once, as before."""

from __future__ import annotations

import json

import httpx
import pytest

import hal.client
from hal.client import Client, HalError


def _client(handler: httpx.MockTransport) -> Client:
    c = Client("http://hal.test", "token")
    c._http = httpx.Client(base_url="http://hal.test", transport=handler)
    return c


def test_a_lost_answer_is_asked_again_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hal.client.time, "sleep", lambda s: None)
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(json.loads(request.content)["idempotency_key"])
        if len(keys) == 1:
            raise httpx.ReadError("connection reset (the controller was killed)", request=request)
        if len(keys) == 2:
            raise httpx.ConnectError("refused (it is restarting)", request=request)
        return httpx.Response(200, json={"job_id": 7, "job_ids": [7], "replayed": True})

    got = _client(httpx.MockTransport(handler)).submit(wrap="true")
    assert got["job_id"] == 7 and len(keys) == 3 and len(set(keys)) == 1


def test_no_server_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hal.client.time, "sleep", lambda s: pytest.fail("no retry when nothing was sent"))

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(HalError, match="is one running"):
        _client(httpx.MockTransport(handler)).submit(wrap="true")


def test_a_server_that_never_comes_back_says_the_job_may_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10_000, 50))
    monkeypatch.setattr(hal.client.time, "sleep", lambda s: None)
    monkeypatch.setattr(hal.client.time, "monotonic", lambda: float(next(clock)))

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    with pytest.raises(HalError, match="the submission may have been accepted: check hal queue"):
        _client(httpx.MockTransport(handler)).submit(wrap="true")

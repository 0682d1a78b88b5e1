"""The server's HTTP protocol (hal/api/http_guard.py) gives a request head a deadline and a size bound: uvicorn
held a connection that sent nothing, or half a request, open forever, and buffered a head of any size. A real
uvicorn server on a loopback port, with the deadline cut to half a second."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from hal.api.http_guard import MAX_HEAD_BYTES, GuardedHttp


class QuickGuard(GuardedHttp):
    head_seconds = 0.5


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    app = FastAPI()

    @app.get("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, port=free, log_level="warning", http=QuickGuard))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(10)


def _answer(port: int, sent: bytes, wait: float = 5.0) -> tuple[bytes, float]:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        began = time.monotonic()
        if sent:
            conn.sendall(sent)
        got = b""
        while chunk := conn.recv(65536):
            got += chunk
        return got, time.monotonic() - began


@pytest.mark.parametrize("sent", [b"", b"GET /ok HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "half a head"])
def test_a_head_that_does_not_arrive_in_time_is_refused_and_closed(port: int, sent: bytes) -> None:
    got, took = _answer(port, sent)
    assert got.startswith(b"HTTP/1.1 408") and took < 3.0, (got, took)


def test_a_head_too_large_is_refused_and_closed(port: int) -> None:
    got, _ = _answer(port, b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (2 * MAX_HEAD_BYTES) + b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 431"), got[:80]


def test_requests_in_time_are_answered_on_a_kept_alive_connection(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        for _ in range(2):
            conn.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            got = conn.recv(65536)
            assert got.startswith(b"HTTP/1.1 200") and got.endswith(b'{"ok":true}')
            time.sleep(0.7)  # longer than a head may take, between requests: uvicorn's keep-alive rules there

"""The server's HTTP protocol (hal/api/http_guard.py) gives a request head a deadline and a size bound, and a body a
least rate: uvicorn held a connection that sent nothing, half a request or a crawling body open forever, and
buffered a head of any size. A real uvicorn server on a loopback port, with the deadlines cut to half a second."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import anyio
import pytest
import uvicorn
from fastapi import FastAPI, Request

from hal.api.http_guard import MAX_HEAD_BYTES, GuardedHttp


class QuickGuard(GuardedHttp):
    head_seconds = 0.5
    body_window = 0.5
    min_body_bytes = 1024


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await anyio.sleep(0.4)
        return {"slow": True}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"got": len(await request.body())}

    return app


def _start(http: type[GuardedHttp] = QuickGuard) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(_app(), port=free, log_level="warning", http=http))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, free


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server, thread, free = _start()
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


def test_a_head_too_large_arriving_in_one_read_is_refused(port: int) -> None:
    """QA: a 70-100 KB head read at once was parsed whole before the raw count was looked at, and answered 200."""
    head = b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 6000) + b"\r\n\r\n"
    for piece in (head, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n" + head):  # alone, and behind a small request
        got, _ = _answer(port, piece)
        assert b"HTTP/1.1 431" in got and b"X-Big" not in got, got[:200]


def test_a_refusal_behind_a_pipelined_request_comes_after_its_answer(port: int) -> None:
    """QA: the 431 was written before the answer of the request pipelined before it."""
    big = b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n"
    got, _ = _answer(port, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" + big)
    first, second = got.find(b"HTTP/1.1 200"), got.find(b"HTTP/1.1 431")
    assert 0 == first < second and b'{"slow":true}' in got[:second], got[:300]


def test_a_body_that_crawls_is_refused_and_closed(port: int) -> None:
    """QA: a body sent a byte a second was waited for forever, and kept a SIGTERM from stopping the server."""
    got, took = _answer(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
    assert got.startswith(b"HTTP/1.1 408") and b"body" in got and took < 3.0, (got, took)


def test_a_body_sent_in_time_is_read(port: int) -> None:
    body = b"x" * 300_000
    got, _ = _answer(
        port, b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 300000\r\n\r\n" + body
    )
    assert got.startswith(b"HTTP/1.1 200") and got.endswith(b'{"got":300000}'), got[:200]


def test_a_stop_answers_a_body_still_coming_at_once() -> None:
    """QA: a body sent a byte a second kept a SIGTERM from stopping the server (uvicorn waits for requests)."""
    server, thread, free = _start(GuardedHttp)  # its body window (30 s) is not what answers
    with socket.create_connection(("127.0.0.1", free), timeout=5) as conn:
        conn.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n01")
        time.sleep(0.1)
        server.should_exit = True
        got = conn.recv(65536)
    thread.join(5)
    assert got.startswith(b"HTTP/1.1 503") and not thread.is_alive(), got


def test_a_crlf_between_requests_does_not_hold_the_connection_open(port: int) -> None:
    """QA: llhttp skips a CRLF between requests and uvicorn stopped its keep-alive timer on it for good."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        began = time.monotonic()
        conn.sendall(b"\r\n")
        got = b""
        while chunk := conn.recv(65536):
            got += chunk
    assert got.startswith(b"HTTP/1.1 408") and time.monotonic() - began < 3.0, got


@pytest.mark.parametrize(
    ("last", "status"),
    [
        (b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n", b"431"),
        (b"X\r\n\r\n", b"400"),
    ],
    ids=["head too large", "malformed"],
)
def test_every_pipelined_answer_comes_before_a_refusal(port: int, last: bytes, status: bytes) -> None:
    """QA: a refusal behind two pipelined requests came before the second's answer (a 431 read as the answer to
    a committed submission), and uvicorn's 400 for a malformed request was sent at once, losing both answers."""
    slow = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
    got, _ = _answer(port, slow + slow + last)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", got)
    assert statuses == [b"200", b"200", status] and got.count(b'{"slow":true}') == 2, got[:400]

"""The real server refuses a request declaring a body over its limit before reading it, and goes on serving."""

from __future__ import annotations

import socket

import httpx

from hal.api.body_limit import MAX_BODY_BYTES
from tests.integration.livekit import LiveServer


def test_a_declared_huge_body_is_refused_at_once(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        head = (
            f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 * MAX_BODY_BYTES}\r\n\r\n"
        )
        conn.sendall(head.encode() + b"{")  # nothing more is sent: a server reading the body would wait
        answer = ""
        while "}" not in answer and (chunk := conn.recv(65536)):  # the head and the JSON body may come apart
            answer += chunk.decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "limit of" in answer
    got = httpx.get(f"{server.url}/v1/whoami", headers={"Authorization": f"Bearer {server.token()}"}, timeout=10)
    assert got.status_code == 200

"""A request body is bounded before it is read (hal/api/body_limit.py): FastAPI read a whole body into memory
before checking any field, so one POST of gigabytes could take the server's memory. A declared Content-Length
over the limit is refused at once; a chunked body once it passes the limit."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from hal.api.body_limit import BodyLimit


def _app(limit: int) -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, limit=limit)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"got": len(await request.body())}

    return app


def test_a_body_within_the_limit_is_taken() -> None:
    with TestClient(_app(1024)) as http:
        assert http.post("/echo", content=b"x" * 1024).json() == {"got": 1024}


def test_a_declared_length_over_the_limit_is_refused_before_it_is_read() -> None:
    with TestClient(_app(1024)) as http:
        got = http.post("/echo", content=b"x" * 1025)
    assert (
        got.status_code == 413
        and got.headers["connection"] == "close"  # the body left unread is not taken in on a kept-alive line
        and got.json()["detail"] == "the request body is larger than the server's limit of 1,024 bytes"
    )


def test_a_chunked_body_is_refused_once_it_passes_the_limit() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 512

    with TestClient(_app(4096)) as http:
        got = http.post("/echo", content=chunks())
    assert got.status_code == 413 and "limit of 4,096 bytes" in got.json()["detail"]
    assert got.headers["connection"] == "close"

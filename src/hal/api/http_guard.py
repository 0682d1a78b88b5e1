"""The HTTP protocol the server speaks (uvicorn's httptools one), with a deadline and a size bound on a request's
head. uvicorn has neither: a connection that sent nothing, or half a request line, was held open forever, and a
request head of any size was buffered whole (2 MB of one header were taken), so a few clients could hold every
file descriptor or much memory of the process that runs the controller. A head must arrive within
``HEAD_SECONDS`` (else 408 and closed) and within ``MAX_HEAD_BYTES`` (else 431 and closed); keep-alive between
requests stays uvicorn's own timeout."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_SECONDS = 30.0
MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 1.0


def _answer(status: bytes, text: str) -> bytes:
    body = text.encode("ascii")
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n" + body
    )


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's protocol, refusing request heads that are too slow or too large."""

    head_seconds = HEAD_SECONDS
    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = False
        self._head_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._begin_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # read and dropped until closed: closing on unread bytes resets, losing the answer
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(b"431 Request Header Fields Too Large", f"request head over {self.max_head_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # the next request on a kept-alive connection: its head has the same deadline
            self._begin_head()

    def on_headers_complete(self) -> None:
        self._end_head()
        super().on_headers_complete()

    def _begin_head(self) -> None:
        self._in_head, self._head_bytes = True, 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_late)

    def _end_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(b"408 Request Timeout", f"no whole request head within {self.head_seconds:g} s")

    def _refuse(self, status: bytes, why: str) -> None:
        """Answer and close; what the client still sends meanwhile is read and dropped for a second, so its
        answer is not lost to a reset."""
        self._end_head()
        self._refused = True
        self.transport.write(_answer(status, why))
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

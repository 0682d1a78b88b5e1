"""The HTTP protocol the server speaks (uvicorn's httptools one), with deadlines and a size bound uvicorn lacks.
uvicorn held a connection that sent nothing, half a request line, or a body one byte a second, open forever
(such a body also kept a SIGTERM from stopping the server), and buffered a request head of any size, so a few
clients could hold every file descriptor or much memory of the process that runs the controller.

- A head must arrive within ``HEAD_SECONDS`` (else 408) and ``MAX_HEAD_BYTES`` (else 431), counted as it is
  parsed too, so a head that arrives in one read or behind a pipelined request is bounded as well.
- A body must bring ``MIN_BODY_BYTES`` in every ``BODY_WINDOW`` seconds until it is whole (else 408), except
  while the server itself has paused reading it.
- A stop answers a request whose body is still coming 503 at once, rather than waiting for it.
- A refusal closes the connection; one that comes behind pipelined requests still being answered waits for their
  answers, so answers keep their order (uvicorn's own 400 for a malformed request too).
- Bytes between requests that begin none (a CRLF) start the head deadline: uvicorn stopped its keep-alive timer on
  them for good. Keep-alive between requests stays uvicorn's own timeout."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_SECONDS = 30.0
MAX_HEAD_BYTES = 64 * 1024
BODY_WINDOW = 30.0
MIN_BODY_BYTES = 16 * 1024
LINGER_SECONDS = 1.0
TOO_LARGE = b"431 Request Header Fields Too Large"
TOO_SLOW = b"408 Request Timeout"
STOPPING = b"503 Service Unavailable"
BAD = b"400 Bad Request"


class _NoParserWarnings(logging.Filter):
    """uvicorn logs a warning for every request its parser refuses: anyone could fill the log with them. The client
    is answered 400 (431 for a head too large); the server's log learns nothing from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Invalid HTTP request received."


logging.getLogger("uvicorn.error").addFilter(_NoParserWarnings())


class HeadTooLarge(Exception):
    """Raised inside the parser's callbacks: httptools stops parsing and uvicorn answers it as a bad request,
    which ``GuardedHttp.send_400_response`` turns into a 431."""


def _answer(status: bytes, text: str) -> bytes:
    body = text.encode("ascii")
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n" + body
    )


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's protocol, refusing request heads that are too slow or too large and bodies that crawl."""

    head_seconds = HEAD_SECONDS
    max_head_bytes = MAX_HEAD_BYTES
    body_window = BODY_WINDOW
    min_body_bytes = MIN_BODY_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._in_head = False
        self._head_bytes = 0  # raw bytes read since the head began (a header still incomplete is in no callback)
        self._parsed = 0  # the head's bytes as parsed: its URL and headers
        self._body_bytes = 0  # body bytes in the current window
        self._refused = False
        self._held: bytes | None = None  # a refusal waiting for an earlier pipelined request's answer

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._begin_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        self._end_body()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # read and dropped until closed: closing on unread bytes resets, losing the answer
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes and not self._refused:
            self._refuse(TOO_LARGE, f"request head over {self.max_head_bytes} bytes")
        elif not self._in_head and self._idle() and not self.transport.is_closing():
            # Bytes between requests that begin none (llhttp skips a CRLF there): uvicorn stopped its keep-alive
            # timer on them and never started it again, so one CRLF held a connection open for good (QA)
            self._begin_head()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what its parser refused, in order: it wrote it and closed at once, so the answers of
        requests pipelined before it were lost, each with a traceback in the log (QA: 8 KB of log per 71 bytes)."""
        if self._parsed > self.max_head_bytes:
            self._refuse(TOO_LARGE, f"request head over {self.max_head_bytes} bytes")
        else:
            self._refuse(BAD, msg)

    def shutdown(self) -> None:
        """A stop does not wait for a body still coming (one a byte a second held a SIGTERM for good)."""
        if self._body_timer is not None and self.cycle is not None and not self.cycle.response_started:
            self._cut(STOPPING, "the server is stopping; send the request again once it is back")
        else:
            super().shutdown()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._parsed = 0
        if not self._in_head:  # the next request on a kept-alive connection: its head has the same deadline
            self._begin_head()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._count(len(name) + len(value) + 4)

    def on_headers_complete(self) -> None:
        self._end_head()
        super().on_headers_complete()
        self._body_bytes = 0
        self._body_timer = self.loop.call_later(self.body_window, self._body_check)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        self._end_body()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._held is not None and self._idle() and not self.transport.is_closing():
            self._close_with(self._held)

    def _idle(self) -> bool:
        """Every request received is answered (the last one popped from the pipeline may still be running)."""
        return not self.pipeline and (self.cycle is None or self.cycle.response_complete)

    def _count(self, size: int) -> None:
        self._parsed += size
        if self._parsed > self.max_head_bytes:
            raise HeadTooLarge

    def _begin_head(self) -> None:
        self._in_head, self._head_bytes = True, 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_late)

    def _end_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _end_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(TOO_SLOW, f"no whole request head within {self.head_seconds:g} s")

    def _body_check(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.cycle is None:
            return
        if self.flow.read_paused or self._body_bytes >= self.min_body_bytes:  # paused: the app is behind
            self._body_bytes = 0
            self._body_timer = self.loop.call_later(self.body_window, self._body_check)
            return
        if self.cycle.response_started:  # answered without waiting for the body: nothing more to say
            self.transport.close()
            return
        self._cut(TOO_SLOW, f"request body under {self.min_body_bytes} bytes in {self.body_window:g} s")

    def _cut(self, status: bytes, why: str) -> None:
        """A request refused while its body is read: the app waiting for the body is told the client is gone."""
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        self._refuse(status, why)

    def _refuse(self, status: bytes, why: str) -> None:
        """Answer and close, after the answer of an earlier pipelined request still being made."""
        self._end_head()
        self._end_body()
        self._refused = True
        answer = _answer(status, why)
        if self._idle() or self.cycle.disconnected:
            self._close_with(answer)
        else:
            self._held = answer

    def _close_with(self, answer: bytes) -> None:
        """What the client still sends meanwhile is read and dropped for a second, so the answer is not lost to
        a reset."""
        self._held = None
        self.transport.write(answer)
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

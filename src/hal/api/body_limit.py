"""A request body's size, bounded before it is read: FastAPI reads a whole body into memory before any check of
its fields, so one POST of gigabytes (declared or streamed in chunks) could take the server's memory, and the
controller with it. The largest request HAL takes is a job of a 4 MiB script, 1 MiB of environment and 2 MiB of
arguments, JSON-escaped: ``MAX_BODY_BYTES`` leaves it ample room."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024 * 1024


def _too_large(limit: int) -> str:
    return f"the request body is larger than the server's limit of {limit:,} bytes"


class BodyLimit:
    """Pure ASGI: a declared Content-Length over the limit is answered 413 before a byte is read; a chunked body
    is counted as it arrives and refused (413) once it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.strip().isdigit() and int(declared) > self.limit:
            # and closed: the body it will not read would otherwise be taken in and dropped on a kept-alive line
            answer = JSONResponse({"detail": _too_large(self.limit)}, status_code=413, headers={"Connection": "close"})
            await answer(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # answered by the app's HTTPException handler, inside its request; closed, or
                    # the rest of the body was taken in and dropped on the kept-alive connection (QA: 400 MiB)
                    raise HTTPException(413, _too_large(self.limit), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)

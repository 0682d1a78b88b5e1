"""An unexpected exception in a route answers JSON, as every other error does: ``{"detail": "internal error:
KeyError; see the server log"}`` with 500, its traceback logged once here. Starlette's own answer was a plain-text
"Internal Server Error" a JSON client could not read, and it re-raised for the server to log (twice with a
handler that logged too); this middleware sits inside that one, so nothing reaches it."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hal.api")


class InternalErrors:
    """Pure ASGI (no BaseHTTPMiddleware: it buffers nothing, so streamed answers stream as before). An error
    after the answer has begun cannot change it: that one is re-raised for the server to end the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            log.error("internal error answering %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            if started:
                raise
            detail = f"internal error: {type(exc).__name__}; see the server log"
            await JSONResponse({"detail": detail}, status_code=500)(scope, receive, send)

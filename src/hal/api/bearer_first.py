"""A request with a body shows a valid bearer token before its body is read. FastAPI reads and parses a body
before it resolves the route's dependencies, so anyone could make the server hold many bodies of up to the size
limit at once (QA: 1.4 GB taken without a token) and got 422 for a malformed body instead of 401. Every route
that takes a body needs a token, so nothing any caller may do is refused here that the route would take."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hal.controller.auth import Authenticator, Identity

REFUSED = "a valid bearer token is required"
IDENTITY = "hal_identity"  # the request state's key for the caller found here


def _has_body(headers: dict[bytes, bytes]) -> bool:
    declared = headers.get(b"content-length", b"0").strip()
    return b"transfer-encoding" in headers or not declared.isdigit() or int(declared) > 0


class BearerFirst:
    """Pure ASGI: a body without a valid ``Authorization: Bearer`` token is answered 401 unread, and the
    connection closed (its unread body is not taken in on a kept-alive line)."""

    def __init__(self, app: ASGIApp, auth: Authenticator) -> None:
        self.app, self.auth = app, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or ())
            if _has_body(headers):
                who = await self._identify(headers.get(b"authorization", b""))
                if who is None:
                    refused = {"WWW-Authenticate": "Bearer", "Connection": "close"}
                    await JSONResponse({"detail": REFUSED}, status_code=401, headers=refused)(scope, receive, send)
                    return
                scope.setdefault("state", {})[IDENTITY] = who  # the route's dependency takes it, not looked up again
        await self.app(scope, receive, send)

    async def _identify(self, header: bytes) -> Identity | None:
        scheme, _, token = header.decode("latin-1").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        who: Identity | None = await run_in_threadpool(self.auth.identify, token)  # a database lookup: off the loop
        return who

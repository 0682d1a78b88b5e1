"""Who a session manager's client is, when the manager runs beside `hal server`: every job, and so every user's SDK,
runs as the server's Unix user, which the socket trusts, and a client named its user itself. Bob's token attached
Alice's recoverable session, took her results and closed it, and opened sessions in her name (QA HIGH). The server
hands each token's holder a ticket (GET /v1/htc), an HMAC of their user name under a key made at each start; the
client shows it before it opens or attaches, and acts only on its own user's sessions (an administrator's: any)."""

from __future__ import annotations

import hashlib
import hmac
import os
import time


def new_key() -> bytes:
    """One per manager start: tickets of an earlier one stop working (a client asks GET /v1/htc again)."""
    return os.urandom(32)


TTL_S = 60.0  # how long a ticket opens sessions: a revoked token's holder opens none after that (QA HIGH)


def ticket(key: bytes, user: str, admin: bool, now: float | None = None) -> str:
    """``EXPIRY:HMAC``: the HMAC covers the user, the admin flag and the expiry. Sessions opened before a token was
    revoked run on, as a revoked user's running jobs do; its holder opens or attaches none once the ticket expired
    (the SDK asks GET /v1/htc for a fresh one each time it opens or attaches)."""
    expiry = int((time.time() if now is None else now) + TTL_S)
    return f"{expiry}:{_mac(key, user, admin, expiry)}"


def _mac(key: bytes, user: str, admin: bool, expiry: int) -> str:
    return hmac.new(key, f"{user}\0{int(admin)}\0{expiry}".encode(), hashlib.sha256).hexdigest()


def shown(key: bytes, said: tuple[object, ...]) -> tuple[str, bool]:
    """(user, admin) from an AUTH message's (user, admin, ticket); ValueError for a ticket not made with ``key``,
    or expired."""
    user, admin, given = (*said, None, None, None)[:3]
    if not isinstance(user, str) or not isinstance(admin, bool) or not isinstance(given, str):
        raise ValueError("a session ticket is (user, admin, ticket): ask GET /v1/htc for one")
    expiry, _, mac = given.partition(":")
    if not expiry.isdigit() or not hmac.compare_digest(_mac(key, user, admin, int(expiry)), mac):
        raise ValueError("the session ticket is not this server's (it restarted?): ask GET /v1/htc for a new one")
    if int(expiry) < time.time():
        raise ValueError(f"the session ticket expired (one lasts {TTL_S:g} s): ask GET /v1/htc for a new one")
    return user, admin


def check_user(who: tuple[str, bool] | None, user: str) -> None:
    """Whether a connection that showed ``who`` (None: no ticket) may open or attach a session of ``user``."""
    if who is None:
        raise ValueError(
            "this session manager serves `hal server`'s users: connect through hal.client.Client, whose ticket "
            "(GET /v1/htc) says who you are"
        )
    if not who[1] and who[0] != user:
        raise ValueError(f"user {who[0]!r} may not act for user {user!r} (only administrators may)")


def may_act(who: tuple[str, bool] | None, owner: str) -> bool:
    """Whether a connection that showed ``who`` may cancel, close or detach a session of ``owner``."""
    return who is not None and (who[1] or who[0] == owner)

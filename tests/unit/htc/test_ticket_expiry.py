"""A session ticket opens sessions for a minute: a revoked token's holder kept opening sessions with the ticket
GET /v1/htc gave it earlier until the server restarted (QA HIGH)."""

from __future__ import annotations

import time

import pytest

from hal.htc import tickets


def test_a_ticket_works_until_it_expires_and_only_for_what_it_says() -> None:
    key = tickets.new_key()
    fresh = tickets.ticket(key, "bob", False)
    assert tickets.shown(key, ("bob", False, fresh)) == ("bob", False)
    with pytest.raises(ValueError, match="not this server's"):
        tickets.shown(key, ("bob", True, fresh))  # the admin flag is covered
    with pytest.raises(ValueError, match="not this server's"):
        tickets.shown(tickets.new_key(), ("bob", False, fresh))  # another start's key
    stale = tickets.ticket(key, "bob", False, now=time.time() - tickets.TTL_S - 1)
    with pytest.raises(ValueError, match=r"expired \(one lasts 60 s\): ask GET /v1/htc"):
        tickets.shown(key, ("bob", False, stale))
    expiry, _, mac = fresh.partition(":")
    with pytest.raises(ValueError, match="not this server's"):  # the expiry is covered too
        tickets.shown(key, ("bob", False, f"{int(expiry) + 3600}:{mac}"))

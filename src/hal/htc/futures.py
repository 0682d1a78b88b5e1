"""The SDK's task futures: how a result settles one, what cancel() promises, and the errors a session raises."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING, Any

from hal.htc import wire
from hal.htc.results import Result, ResultUnreadable, SessionBroken, unwrap

if TYPE_CHECKING:
    from hal.htc.client import Session


class SessionClosed(RuntimeError):
    """This client closed or detached the session: no more tasks, and no result for a task it had outstanding."""


def connect(address: str) -> wire.Channel:
    """A channel to the session manager; says where none answers instead of a bare errno (QA)."""
    try:
        return wire.Channel(wire.connect(address))
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise ConnectionError(
            f"no session manager answers at {address} ({why}); start one with `hal session-manager`"
        ) from exc


Ticket = tuple[str, bool, str]  # (user, admin, ticket): who a client of `hal server`'s manager is (tickets.py)


def handshake(ch: wire.Channel, ticket: Ticket | None, first: tuple[Any, ...]) -> Any:
    """The ticket (when `hal server`'s manager asks for one: tickets.py), then ``first`` (OPEN or ATTACH); its
    reply, or RuntimeError with the manager's reason."""
    for msg in [first] if ticket is None else [(wire.AUTH, *ticket), first]:
        ch.send(msg)
        reply = ch.recv()
        if reply[0] == wire.ERROR:
            ch.close()
            raise RuntimeError(reply[1])
    return reply


def settle(fut: Future[Any], r: Result) -> None:
    """A future's value, exception or cancellation from its task's result; a second result for it is ignored."""
    try:
        try:
            value = unwrap(r[1], r[2])
        except Exception as exc:  # QA: it escaped into the reader thread, and no future of the session settled again
            fut.set_exception(ResultUnreadable(f"task {r[0]}'s result cannot be unpickled here: {exc!r}"))
            return
        if r[1] == wire.S_OK:
            fut.set_result(value)
        elif r[1] == wire.S_CANCELLED:
            Future.cancel(fut)  # not TaskFuture.cancel: the reader thread calls this, and reads its reply
        else:
            fut.set_exception(value)
    except InvalidStateError:
        pass


class TaskFuture(Future[Any]):
    def __init__(self, session: Session, tid: int) -> None:
        super().__init__()
        self.session = session
        self.tid = tid

    def cancel(self) -> bool:
        """As concurrent.futures: True only for a task still queued, which the manager drops; a task handed to an
        instance (running, or prefetched there) goes on, returns False and keeps its result (QA: it said True)."""
        if self.done():
            return False
        if threading.current_thread() is self.session._reader:  # a done-callback: the reply would come to this
            self.session.cancel([self])  # thread, which would wait 30 s for it; a queued task still ends cancelled
            return False
        try:
            gone = self.session._request((wire.CANCEL, self.session.id, [self.tid], True))
        except (RuntimeError, SessionBroken, queue.Empty):
            return False
        return self.tid in gone and Future.cancel(self)

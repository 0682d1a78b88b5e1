"""The HTC SDK: sessions with map, submit -> Future, cancel, common data and re-attach, over one socket each.

A reader thread per session turns result batches into resolved futures or hands them to the running map;
``map`` streams its inputs, keeping at most ``window`` tasks outstanding, so an iterator of ten million
inputs is never materialized on either side. A future never stays pending: a closed, detached, refused or
broken session settles every one it holds.
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import queue
import socket
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import InvalidStateError
from typing import Any

from hal.htc import wire
from hal.htc.app import Application, check_priority, check_slots
from hal.htc.futures import SessionClosed, TaskFuture, Ticket, connect, handshake, settle
from hal.htc.results import RemoteTraceback, Result, SessionBroken, TaskError, TaskLost, unwrap, value_of

__all__ = [
    "HtcClient",
    "RemoteTraceback",
    "Session",
    "SessionBroken",
    "SessionClosed",
    "TaskError",
    "TaskFuture",
    "TaskLost",
]


class Session:
    """A session of one application; use as a context manager (``client.session(...)``)."""

    def __init__(
        self,
        address: str,
        spec: dict[str, Any] | None = None,
        attach: int | None = None,
        window: int = 20000,
        ticket: Ticket | None = None,
    ) -> None:
        self.window = window
        self.batch = 512
        self._ch = connect(address)
        self._send_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._replies: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._futures: dict[int, TaskFuture] = {}
        self._sink: queue.SimpleQueue[Any] | None = None
        self._mine: set[int] | None = None  # the running map's outstanding tasks: only their results go to it
        self._orphans: list[Result] = []
        self._drop: set[int] = set()
        self._cv = threading.Condition()
        self._waiting = False
        self._broken: str | None = None
        self._closed: str | None = None  # why submit() and map() now refuse: closed or detached by this client
        self._asking = False  # a request waits for its reply: an ERROR now is that reply
        self._tids = itertools.count()
        self._replay = attach is not None  # results of the session's earlier tasks come too
        reply = handshake(self._ch, ticket, (wire.OPEN, spec) if attach is None else (wire.ATTACH, attach))
        self.info: dict[str, Any] = {}
        if attach is None:
            self.id: int = reply[1]
        else:
            self.info = reply[1]
            self.id = attach
            # the manager's next unused id: its count of submitted tasks misses tasks lost in a crash (QA: reused)
            self._tids = itertools.count(self.info.get("next_tid", self.info["submitted"]))
        self._reader = threading.Thread(target=self._read, name=f"hal-session-{self.id}", daemon=True)
        self._reader.start()

    # ---- the reader thread -------------------------------------------------------------------------
    def _read(self) -> None:
        try:
            while True:
                msg = self._ch.recv()
                if msg[0] == wire.RESULTS:
                    self._route(msg[2])
                elif msg[0] == wire.ERROR and not self._asking:
                    self._refused(str(msg[1]))
                else:
                    self._replies.put(msg)
        except (EOFError, OSError) as exc:
            self._broken = self._broken or f"lost the session manager: {exc}"
        if self._closed:
            self._fail_all(SessionClosed, self._closed)
        else:
            self._fail_all(SessionBroken, self._broken)
        self._replies.put((wire.ERROR, self._broken))

    def _refused(self, reason: str) -> None:
        """An ERROR no request waits for answers tasks (or a cancel) sent without a reply: the manager no longer
        takes this client's work (another client attached, the session ended), so no future may wait on (QA)."""
        if self._closed or self._broken:
            return
        self._broken = f"the session manager refused this client's tasks of session {self.id}: {reason}"
        self._fail_all(SessionBroken, self._broken)

    def _fail_all(self, kind: type[Exception], text: str) -> None:
        """Settles every future still pending, and the running map, with ``kind``; "{task}" in ``text`` names it."""
        for tid, fut in list(self._futures.items()):
            with contextlib.suppress(InvalidStateError):
                fut.set_exception(kind(text.replace("{task}", f"task {tid}")))
            self._futures.pop(tid, None)
        if self._sink is not None:
            self._sink.put(kind(text.replace("{task}", "tasks of the running map")))
        with self._cv:
            self._cv.notify_all()

    def _route(self, results: list[Result]) -> None:
        """To its future, to the running map if one of its tasks, else kept for collect(): after a re-attach the
        session's earlier results arrive too, and a map took them for its own (QA: 300,003 values for 3 inputs)."""
        futs, drop, mine, sink = self._futures, self._drop, self._mine, self._sink
        ours: list[Result] = []
        other: list[Result] = []
        if futs or drop:
            for r in results:
                fut = futs.pop(r[0], None)
                if fut is not None:
                    settle(fut, r)
                elif r[0] in drop:  # of a map the caller left early
                    drop.discard(r[0])
                elif mine is not None and r[0] in mine:
                    ours.append(r)
                else:
                    other.append(r)
            if self._waiting:
                with self._cv:
                    self._cv.notify_all()
        elif mine is None:
            other = results
        elif not self._replay:  # a session this client opened: every result is of its own tasks (a fast path)
            ours = results
        else:
            ours = [r for r in results if r[0] in mine]
            if len(ours) < len(results):
                other = [r for r in results if r[0] not in mine]
        if ours and sink is not None:
            sink.put(ours)
        if other:
            self._orphans.extend(other)
            with self._cv:
                self._cv.notify_all()

    # ---- sending -----------------------------------------------------------------------------------
    def _send(self, msg: tuple[Any, ...]) -> None:
        if self._closed:
            raise SessionClosed(self._closed)
        if self._broken:
            raise SessionBroken(self._broken)
        try:
            with self._send_lock:
                self._ch.send(msg)
        except OSError as exc:
            raise SessionBroken(self._broken or f"lost the session manager: {exc}") from exc

    def _request(self, msg: tuple[Any, ...], timeout: float = 30.0) -> Any:
        with self._request_lock:  # one at a time: replies come back in order, unnamed
            while not self._replies.empty():  # a late reply to a request that timed out is not this one's
                self._replies.get_nowait()  # (review); a lost connection raises in _send below
            self._asking = True
            try:
                self._send(msg)
                reply = self._replies.get(timeout=timeout)
            finally:
                self._asking = False
        if reply[0] == wire.ERROR:
            raise RuntimeError(reply[1])
        return reply[1]

    # ---- the API -----------------------------------------------------------------------------------
    def submit(self, x: Any, priority: int = 0) -> TaskFuture:
        """One task; higher ``priority`` (0 to 10,000) runs first within this session."""
        check_priority(priority, "a task's priority")
        data = wire.dumps(x)  # first: an input that cannot be pickled left a future that wait() waited on (QA)
        if len(self._futures) >= self.window:
            with self._cv:
                self._waiting = True
                while len(self._futures) >= self.window and not (self._broken or self._closed):
                    self._cv.wait(0.5)
                self._waiting = False
        tid = next(self._tids)
        fut = TaskFuture(self, tid)
        self._futures[tid] = fut
        try:
            self._send((wire.TASKS, self.id, [(tid, priority, data)]))
        except BaseException:
            self._futures.pop(tid, None)
            raise
        return fut

    def map(self, inputs: Iterable[Any], ordered: bool = True, priority: int = 0) -> Iterator[Any]:
        """Results of ``inputs`` in submission order (or completion order); a task's exception is raised here."""
        check_priority(priority, "a task's priority")
        if self._sink is not None:
            raise RuntimeError("one map at a time per session")
        sink: queue.SimpleQueue[Any] = queue.SimpleQueue()
        live: set[int] = set()  # sent, no result yet: cancelled if the caller leaves the map early
        self._sink, self._mine = sink, live
        try:
            yield from self._map(iter(inputs), sink, ordered, priority, live)
        finally:
            self._sink, self._mine = None, None

    def _map(
        self, it: Iterator[Any], sink: queue.SimpleQueue[Any], ordered: bool, priority: int, live: set[int]
    ) -> Iterator[Any]:
        if self._closed:
            raise SessionClosed(self._closed)
        try:
            yield from self._stream(it, sink, ordered, priority, live)
        finally:
            if live and not (self._broken or self._closed):
                self._drop.update(live)
                self._send((wire.CANCEL, self.id, list(live)))

    def _stream(
        self, it: Iterator[Any], sink: queue.SimpleQueue[Any], ordered: bool, priority: int, live: set[int]
    ) -> Iterator[Any]:
        dumps = wire.dumps
        order: deque[int] = deque()
        early: dict[int, Result] = {}
        exhausted = False
        while True:
            # results held back for order count too: one straggler must not let the buffer grow past the window
            while not exhausted and len(live) + len(early) < self.window:
                room = self.window - len(live) - len(early)
                chunk = list(itertools.islice(it, min(self.batch, room)))
                if not chunk:
                    exhausted = True
                    break
                items = [(next(self._tids), priority, dumps(x)) for x in chunk]
                tids = [t for t, _, _ in items]
                live.update(tids)
                if ordered:
                    order.extend(tids)
                self._send((wire.TASKS, self.id, items))
            if exhausted and not live:
                return
            got = sink.get()
            if isinstance(got, BaseException):
                raise got
            live.difference_update(r[0] for r in got)
            if not ordered:
                for r in got:
                    yield value_of(r)
                continue
            for r in got:
                early[r[0]] = r
            while order and order[0] in early:
                yield value_of(early.pop(order.popleft()))

    def cancel(self, futures: Iterable[TaskFuture] | None = None) -> None:
        """Cancel some tasks, or every queued task of the session; running ones finish and are dropped."""
        tids = None if futures is None else [f.tid for f in futures]
        self._send((wire.CANCEL, self.id, tids))

    def collect(self, timeout: float | None = None) -> dict[int, Any]:
        """After a re-attach: every task's value (or exception) by task id, waiting for those not done."""
        want = self.info.get("submitted", 0)
        seen: dict[int, Any] = {}
        with self._cv:
            while True:
                for r in self._orphans:
                    seen[r[0]] = unwrap(r[1], r[2])
                self._orphans.clear()
                if len(seen) >= want or self._broken:
                    return seen
                if not self._cv.wait(timeout):
                    raise TimeoutError(f"{len(seen)} of {want} results after {timeout} s")

    def wait(self) -> None:
        """Block until every submitted future has its result."""
        with self._cv:
            self._waiting = True
            while self._futures and not self._broken:
                self._cv.wait(0.5)
            self._waiting = False

    def detach(self) -> None:
        """Leave a recoverable session running; ``client.attach(id)`` collects its results later. A future still
        pending here fails with SessionClosed: its result goes to whoever attaches."""
        if self._closed:
            return
        self._request((wire.DETACH, self.id))
        self._end("detached", f"collect it with client.attach({self.id}).collect()")

    def close(self) -> None:
        """End the session: the manager cancels its tasks; a future it leaves without a result (a task already on a
        service instance) fails with SessionClosed: none stays pending (QA: they stayed so forever)."""
        if self._closed:
            return
        if not self._broken:
            with contextlib.suppress(RuntimeError, SessionBroken, queue.Empty):
                self._request((wire.CLOSE, self.id))
        self._end("closed", "its result never comes")

    def _end(self, how: str, after: str) -> None:
        """Settle what is pending (the manager sent every result it had before its reply), then hang up."""
        self._closed = f"session {self.id} is {how}"
        self._fail_all(SessionClosed, f"session {self.id} was {how} with {{task}} outstanding: {after}")
        with contextlib.suppress(OSError):
            self._ch.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader: close() alone leaves it blocked in recv
        self._ch.close()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5.0)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.wait()
        self.close()


class HtcClient:
    """Talks to a session manager: sessions, re-attach, applications, counters."""

    def __init__(self, address: str | None = None, user: str | None = None, ticket: Ticket | None = None) -> None:
        """``ticket``: what `hal server`'s manager asks of sessions (hal.client.Client passes it); not a standalone."""
        from hal.htc.address import default_address

        self.ticket = ticket
        self.address = address or default_address()
        self.user = user or getpass.getuser()

    def session(
        self,
        app: str,
        slots: int | None = None,
        *,
        name: str = "",
        priority: int = 1,
        common: Any = None,
        recoverable: bool = False,
        window: int = 20000,
    ) -> Session:
        check_slots(slots)
        spec = {"app": app, "name": name, "user": self.user, "priority": priority, "max_slots": slots,
                "recoverable": recoverable, "common": None if common is None else wire.dumps(common)}  # fmt: skip
        return Session(self.address, spec, window=window, ticket=self.ticket)

    def async_session(self, app: str, slots: int | None = None, **kwargs: Any) -> Any:
        from hal.htc.aio import AsyncSession

        return AsyncSession(self.session(app, slots, **kwargs))

    def attach(self, session_id: int) -> Session:
        return Session(self.address, attach=session_id, ticket=self.ticket)

    def _call(self, msg: tuple[Any, ...]) -> Any:
        ch = connect(self.address)
        try:
            for one in [msg] if self.ticket is None else [(wire.AUTH, *self.ticket), msg]:  # who asks, then what
                ch.send(one)
                if (reply := ch.recv(timeout=30.0))[0] == wire.ERROR:
                    break
        finally:
            ch.close()
        if reply[0] == wire.ERROR:
            raise RuntimeError(reply[1])
        return reply[1]

    def register(self, app: Application) -> str | None:
        """Registers (or replaces) it; a warning when the instances could not import its module."""
        got = self._call((wire.REGISTER, app.to_dict()))
        return got if isinstance(got, str) else None

    def register_app(self, name: str, target: str, **kwargs: Any) -> Application:
        app = Application(name, target, **kwargs)
        self.register(app)
        return app

    def apps(self) -> list[Application]:
        return [Application.from_dict(a) for a in self._call((wire.APPS,))]

    def stats(self) -> dict[str, Any]:
        return dict(self._call((wire.STATS,)))

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.stats()["sessions"])

    def hold(self, cpus: int, duration: float, qos: str = "high", user: str | None = None) -> int:
        """A batch job on a standalone manager's engine: holds ``cpus`` for ``duration`` s once started."""
        return int(self._call((wire.HOLD, {"cpus": cpus, "duration": duration, "qos": qos, "user": user or self.user})))

    def shutdown(self) -> None:
        self._call((wire.SHUTDOWN,))

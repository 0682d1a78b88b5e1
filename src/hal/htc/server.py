"""The session manager process: one selector loop over clients and service instances, no thread per peer.

Runs standalone (``hal session-manager`` or ``python -m hal.htc.server``) with its own engine over this
machine's CPUs, or beside the controller with a provider over the controller's Scheduler. Recoverable sessions
are journaled (journal.py) once per dispatch window and re-loaded at start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import selectors
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from hal.htc import deadlines, guard, tickets, wire
from hal.htc.app import Application, AppRegistry, unimportable
from hal.htc.beacon import Beacon
from hal.htc.engine_slots import SchedulerSlots, batch_spec
from hal.htc.journal import WINDOW, Journal
from hal.htc.manager import Manager
from hal.htc.slots import Granted, Reclaimed, Retire, SlotProvider
from hal.htc.spawning import spawn_instance
from hal.htc.state import Instance, SessionSpec
from hal.model.resources import Resources

TICK = 0.1  # seconds between rebalances when nothing else wakes the loop
REAP = 0.5  # seconds between checks of instances' processes and their own memory
TREE = 2.0  # seconds between checks of the memory of everything instances started (a scan of /proc)

_CLIENT = "client"
Ints = tuple[int, ...]
log = logging.getLogger("hal.htc")


class Server:
    def __init__(
        self,
        address: str,
        registry: AppRegistry,
        provider: SlotProvider,
        journal: Path | None = None,
        key: bytes | None = None,
    ) -> None:
        """``journal``: the SQLite file that keeps recoverable sessions across restarts (None: they die with us).
        ``key``: clients say who they are with a ticket made with it (tickets.py); None: by their Unix user."""
        self.address = address
        self.key = key
        self.who: dict[wire.Conn, tuple[str, bool]] = {}  # a ticket's (user, admin), once shown
        self.provider = provider
        try:  # an unreadable journal stops the session manager (not `hal server`: it runs on without HTC)
            self.journal = Journal(journal) if journal is not None else None
            self.manager = Manager(registry, provider, self._spawn, self._forget, self.journal)
        except (sqlite3.Error, pickle.UnpicklingError, TypeError, ValueError) as exc:
            raise OSError(f"cannot load the journal of recoverable sessions {journal}: {exc}") from exc
        self.listener = wire.listen(address)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self._last_journal = 0.0
        self.roles: dict[wire.Conn, Any] = {}
        self.writing: set[wire.Conn] = set()
        self.peers: dict[wire.Conn, int | None] = {}  # Unix peers' uid (SO_PEERCRED); None over TCP
        self.stopping = False
        self._last_tick = 0.0
        self._last_reap = 0.0
        self._last_tree = 0.0
        self._faults: set[str] = set()  # unexpected errors already logged with their traceback
        self._bell, self._bell_out = socket.socketpair()  # another thread rings: grants or reclaims are ready
        self._bell.setblocking(False)
        self._bell_out.setblocking(False)
        self.sel.register(self._bell, selectors.EVENT_READ, self._bell)

    def wake(self) -> None:
        """Thread-safe: make the loop poll its slot provider now instead of at the next tick."""
        with contextlib.suppress(BlockingIOError, OSError):
            self._bell_out.send(b"!")

    # ---- processes ---------------------------------------------------------------------------------
    def _spawn(self, iid: int, app: Application, cpus: Ints, gpus: Ints) -> tuple[subprocess.Popen[bytes], Beacon]:
        return spawn_instance(self.address, self.provider, iid, app, cpus, gpus)

    def _reap(self) -> None:
        """Instances whose process ended before it ever connected (a crash at start-up)."""
        for inst in list(self.manager.instances.values()):
            if inst.conn is None and inst.proc.poll() is not None:
                self.manager.instance_lost(inst, f"process exited with code {inst.proc.returncode} at start-up")

    # ---- the loop ----------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """An unexpected error is logged and the loop goes on: one bad application or request must never take
        the manager, and every other user's sessions, down with it (QA: an app with cpus=0 did)."""
        try:
            while not self.stopping:
                try:
                    self.step()
                except Exception as exc:
                    self._fault("the session manager's loop", exc)
                    time.sleep(0.01)  # an error met before select() waits must not spin a core
        finally:
            self.shutdown()

    def _fault(self, where: str, exc: Exception) -> str:
        """Logs the traceback the first time an error is seen (the loop may meet it every tick); says it in words."""
        why = f"unexpected error in {where}: {exc!r}"
        if why not in self._faults:
            self._faults = self._faults if len(self._faults) < 256 else set()
            self._faults.add(why)
            log.exception("%s; the session manager goes on", why)
        return why

    def step(self, timeout: float = TICK) -> None:
        for key, mask in self.sel.select(timeout):
            conn = key.data
            if conn is None:
                self._accept()
                continue
            if conn is self._bell:
                with contextlib.suppress(BlockingIOError):
                    self._bell.recv(4096)
                continue
            if mask & selectors.EVENT_WRITE and conn.flush():
                self._want_write(conn, False)
            if mask & selectors.EVENT_READ:
                msgs = conn.read()
                if msgs is None:
                    self._gone(conn)
                    continue
                for msg in msgs:
                    try:
                        self._handle(conn, msg)
                    except Exception as exc:  # the one who asked hears why; nobody else is affected
                        conn.send((wire.ERROR, self._fault(f"a request of kind {msg[0]}", exc)))
        self._flush()  # results and tasks leave before any bookkeeping: latency first
        m = self.manager
        for ev in self.provider.poll():
            try:  # each event on its own: a grant dropped by an error elsewhere would hold its slot forever
                if isinstance(ev, Granted):
                    m.on_grant(ev)
                elif isinstance(ev, Reclaimed):
                    m.on_reclaim(ev.slot, ev.reason)
                elif isinstance(ev, Retire):
                    m.on_retire(ev.slot, ev.reason)
                else:
                    m.on_refused(ev.pool, ev.user, ev.reason)
            except Exception as exc:
                self._fault(f"handling {ev}", exc)
        now = time.monotonic()
        if m.dirty or now - self._last_tick > TICK:
            m.dirty = False
            self._last_tick = now
            m.rebalance()
        if now - self._last_reap > REAP:
            self._last_reap = now
            self._reap()
            tree = now - self._last_tree >= TREE
            self._last_tree = now if tree else self._last_tree
            guard.watch(m.instances.values(), now, tree)
            deadlines.watch(m.instances.values(), m.registry, now)
        if self.journal is not None and now - self._last_journal >= WINDOW:
            self._last_journal = now
            if self.journal.pending(m.sessions):
                self.journal.write(m.sessions, m._next_sid)
        self._flush()

    def _flush(self) -> None:
        for s in self.manager.sessions.values():
            if s.outbox:
                self.manager.flush_session(s)
        for conn in self.roles:
            if conn.wbuf and not conn.flush():
                self._want_write(conn, True)

    def _want_write(self, conn: wire.Conn, on: bool) -> None:
        if on == (conn in self.writing):
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if on else 0)
        self.sel.modify(conn.sock, events, conn)
        if on:
            self.writing.add(conn)
        else:
            self.writing.discard(conn)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn = wire.Conn(sock)
            self.roles[conn] = None
            self.peers[conn] = wire.peer_uid(sock)
            self.sel.register(sock, selectors.EVENT_READ, conn)

    def _forget(self, conn: wire.Conn) -> Any:
        self.peers.pop(conn, None)
        self.who.pop(conn, None)
        role = self.roles.pop(conn, None)
        self.writing.discard(conn)
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(conn.sock)
        conn.close()
        return role

    def _gone(self, conn: wire.Conn) -> None:
        role = self._forget(conn)
        if isinstance(role, Instance):
            self.manager.instance_lost(role, role.lost_reason or guard.exit_reason(role.proc, role.mem_mb))
        elif role == _CLIENT:
            self.manager.client_gone(conn)

    # ---- messages ----------------------------------------------------------------------------------
    def _handle(self, conn: wire.Conn, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        m = self.manager
        if kind == wire.TASKS:
            try:
                m.add_tasks(msg[1], msg[2], conn)
            except (KeyError, ValueError) as exc:
                conn.send((wire.ERROR, f"session {msg[1]}: {exc}"))
            return
        if kind == wire.DONE:
            inst = self.roles.get(conn)
            if isinstance(inst, Instance):
                m.done(inst, msg[1])
            return
        if kind == wire.HELLO:
            inst = m.hello(msg[1], conn) if self._trusted(conn) else None
            if inst is None:
                conn.send((wire.STOP,))
            self.roles[conn] = inst
            return
        self.roles[conn] = _CLIENT
        try:
            reply = self._request(conn, kind, msg)
        except (KeyError, ValueError, TypeError) as exc:
            conn.send((wire.ERROR, str(exc).strip("'\"")))
            return
        if reply is not _NO_REPLY:
            conn.send((wire.OK, reply))

    def _admin(self, conn: wire.Conn) -> bool:
        """Beside `hal server` an administrator's ticket (QA HIGH: every job runs as the trusted Unix user, so a
        user's registered apps and shut the manager down); standalone, root or the manager's own user."""
        return bool((who := self.who.get(conn)) and who[1]) if self.key is not None else self._trusted(conn)

    def _trusted(self, conn: wire.Conn) -> bool:
        """Root, the manager's own user, or a TCP peer (TCP is for trusted networks only)."""
        uid = self.peers.get(conn)
        return uid is None or uid == 0 or uid == os.getuid()

    def _check_user(self, conn: wire.Conn, user: str) -> None:
        """A local user may open and re-attach only their own sessions; a ticket's user likewise (an admin's: any)."""
        if self.key is not None:
            tickets.check_user(self.who.get(conn), user)
            return
        uid = self.peers.get(conn)
        if not self._trusted(conn) and uid is not None and wire.user_name(uid) != user:
            raise ValueError(f"user {wire.user_name(uid)!r} may not act for user {user!r}")

    def _visible(self, conn: wire.Conn, stats: dict[str, Any]) -> dict[str, Any]:
        """The sessions a connection may act on, as GET /v1/sessions shows a user's (QA: the socket listed every
        user's to any process of the server's user, which every job is)."""
        if self.key is None and self._trusted(conn):
            return stats
        who, name = self.who.get(conn), "" if self.key is not None else wire.user_name(self.peers[conn] or 0)
        mine = [r for r in stats["sessions"] if (tickets.may_act(who, r["user"]) if self.key else r["user"] == name)]
        return {**stats, "sessions": mine}

    def _own(self, conn: wire.Conn, sid: int) -> Any:
        s = self.manager.sessions[sid]
        if s.client is conn:
            return s
        if self.key is not None:
            if not tickets.may_act(self.who.get(conn), s.spec.user):
                raise ValueError(f"session {sid} belongs to another user")
        elif not self._trusted(conn):
            raise ValueError(f"session {sid} belongs to another connection")
        return s

    def _auth(self, conn: wire.Conn, msg: tuple[Any, ...]) -> bool:
        """(AUTH, user, admin, ticket): who this connection acts for, from here on."""
        if self.key is not None:  # without one, the Unix user says it
            self.who[conn] = tickets.shown(self.key, msg[1:])
        return True

    def _request(self, conn: wire.Conn, kind: int, msg: tuple[Any, ...]) -> Any:
        m = self.manager
        if kind == wire.AUTH:
            return self._auth(conn, msg)
        if kind == wire.OPEN:
            spec = SessionSpec.from_dict(msg[1])
            self._check_user(conn, spec.user)
            return m.open_session(spec, conn).sid
        if kind == wire.CANCEL:  # a future's cancel() asks which were still queued (msg[3]): only those say True
            gone = self._own(conn, msg[1]).cancel(msg[2])
            return gone if msg[3:] else _NO_REPLY
        if kind == wire.CLOSE:
            self._own(conn, msg[1])
            m.close_session(msg[1])
            return True
        if kind == wire.DETACH:
            self._own(conn, msg[1])
            m.detach(msg[1])
            return True
        if kind in (wire.REGISTER, wire.HOLD, wire.SHUTDOWN) and not self._admin(conn):
            who = "an administrator's ticket" if self.key is not None else "the manager's own user or root"
            raise ValueError(f"only {who} may register applications, hold or shut down")
        if kind == wire.ATTACH:
            live = m.sessions.get(msg[1])
            if live is not None:
                self._check_user(conn, live.spec.user)
            s = m.attach(msg[1], conn)  # next_tid: where the client numbers its next tasks (ids are never reused)
            conn.send((wire.OK, {**s.summary(time.time()), "next_tid": s.next_tid}))
            m.flush_session(s)
            return _NO_REPLY
        if kind == wire.REGISTER:
            app = Application.from_dict(msg[1])
            never = self.provider.never(app.per_instance)
            if never is not None:  # the machine is fixed while we run: changing it takes a restart
                size = app.resources_text().partition(";")[0]
                raise ValueError(
                    f"application {app.name!r} refused: a service instance ({size}) can never run here: {never}"
                )
            m.registry.register(app)
            m.dirty = True
            return unimportable(app) or True  # a warning for the one registering
        if kind == wire.APPS:  # env values may be credentials: an administrator's only, as over REST
            rows, admin = [a.to_dict() for a in m.registry.apps.values()], self._admin(conn)
            return rows if admin else [{**r, "env": dict.fromkeys(r.get("env") or {}, "***")} for r in rows]
        if kind == wire.STATS:
            return self._visible(conn, m.stats())
        if kind == wire.HOLD:
            return self._hold(msg[1])
        if kind == wire.SHUTDOWN:
            self.stopping = True
            return True
        raise ValueError(f"unknown request kind {kind}")

    def _hold(self, req: dict[str, Any]) -> int:
        """A batch job on the standalone manager's own engine (the controller submits real ones)."""
        if not isinstance(self.provider, SchedulerSlots):
            raise ValueError("batch holds need the standalone engine")
        res = Resources(cpus=int(req.get("cpus", 1)), mem_mb=int(req.get("mem_mb", 0)), gpus=int(req.get("gpus", 0)))
        spec = batch_spec(self.provider, res, req.get("user", "nobody"), req.get("qos", "high"), req["duration"])
        return self.provider.submit_batch(spec, float(req["duration"]))

    def shutdown(self) -> None:
        m = self.manager
        for sid, s in list(m.sessions.items()):
            if self.journal is None or not s.spec.recoverable:  # recoverable ones wait in the journal
                m.close_session(sid, "shutdown")
        if self.journal is not None:
            self.journal.write(m.sessions, m._next_sid)
            self.journal.close()
        procs = [inst.proc for inst in m.instances.values()]
        for inst in list(m.instances.values()):
            m.release_slot(inst)
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.provider.close()
        for conn in list(self.roles):
            conn.flush()
            conn.close()
        self.listener.close()
        self._bell.close()
        self._bell_out.close()
        if not self.address.startswith("tcp://") and os.path.exists(self.address):
            os.unlink(self.address)


_NO_REPLY = object()


if __name__ == "__main__":  # the standalone manager: `hal session-manager` (hal/htc/standalone.py)
    from hal.htc.standalone import main

    main()

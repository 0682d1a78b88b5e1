"""What of a recoverable session outlives the session manager: its spec and counters, the inputs of its tasks not yet
finished, and the results not yet collected, in an SQLite file beside the manager's other state.

Writes are batched: the manager notes new tasks as they arrive and the journal takes new results from each
session's history, and everything since the last write goes to disk in one transaction per dispatch window
(``WINDOW``), as one row of inputs and one row of results per session: never one write per task. Inputs stay
on disk until the session closes; a task is unfinished while no result names it. A graceful stop writes the
rest. Only recoverable sessions are journaled.

What a crash of the manager (kill -9, the machine going down) loses: results of the last window, whose tasks
run again, and every submission not yet written. Those are not only the last window's: a client's submit()
returns once the task is in its socket's send buffer, so the tasks still in the client's and the kernel's
buffers, unread by the manager, die with the connection (QA: 1,560 of 20,000 submitted in a burst). Tasks are
written in the order they arrive, so what survives is a prefix of the session's submissions; there is no
per-task acknowledgement (it would cost the throughput). A client learns what survived when it attaches: the
reply says ``submitted`` (tasks the manager knows) and ``next_tid`` (one past the highest task id it has seen,
kept here across restarts); tasks from ``next_tid`` on will never have a result and must be submitted again,
and new tasks are numbered from ``next_tid``, so no id is used twice.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hal.controller.private import create_private
from hal.htc.app import AppRegistry
from hal.htc.state import Counters, Result, SessionSpec, SessionState

WINDOW = 0.05  # seconds between two writes while recoverable sessions change

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (sid INTEGER PRIMARY KEY, spec TEXT NOT NULL, common BLOB,
    counters TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (seq INTEGER PRIMARY KEY, sid INTEGER NOT NULL, batch BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (seq INTEGER PRIMARY KEY, sid INTEGER NOT NULL, batch BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_sid ON tasks (sid);
CREATE INDEX IF NOT EXISTS results_sid ON results (sid);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(slots=True)
class Recovered:
    """A recoverable session as the last write left it: its unfinished tasks (in submission order within each
    priority) and the results its client has not collected."""

    sid: int
    spec: SessionSpec
    counters: Counters
    created: float
    tasks: list[tuple[int, int, bytes]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    next_tid: int = 0  # one past the highest task id the journal has seen


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        create_private(path)  # 0600 from its creation: users' task data (SQLite gives its -wal file the same)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash of the process loses nothing committed
        self.db.executescript(_SCHEMA)
        self._opened: dict[int, tuple[SessionSpec, float]] = {}
        self._tasks: dict[int, list[tuple[int, int, bytes]]] = {}
        self._closed: list[int] = []
        self._marks: dict[int, int] = {}  # per session: how much of its history is on disk
        self.writes = 0

    # ---- what the manager notes --------------------------------------------------------------------
    def opened(self, sid: int, spec: SessionSpec, created: float) -> None:
        self._opened[sid] = (spec, created)
        self._marks[sid] = 0

    def added(self, sid: int, items: list[tuple[int, int, bytes]]) -> None:
        batch = self._tasks.get(sid)
        if batch is None:
            self._tasks[sid] = list(items)
        else:
            batch.extend(items)

    def closed(self, sid: int) -> None:
        self._closed.append(sid)
        self._tasks.pop(sid, None)
        self._opened.pop(sid, None)
        self._marks.pop(sid, None)

    def adopt(self, sid: int, journaled: int) -> None:
        """A session re-loaded at start: the first ``journaled`` results of its history are already on disk."""
        self._marks[sid] = journaled

    def pending(self, sessions: dict[int, Any]) -> bool:
        if self._opened or self._tasks or self._closed:
            return True
        return any(len(sessions[sid].history) > mark for sid, mark in self._marks.items() if sid in sessions)

    # ---- writing -----------------------------------------------------------------------------------
    def write(self, sessions: dict[int, Any], next_sid: int) -> None:
        """One transaction with everything noted since the last; ``sessions`` are the manager's live ones."""
        db = self.db
        db.execute("BEGIN")
        try:
            for sid, (spec, created) in self._opened.items():
                body = {k: v for k, v in asdict(spec).items() if k != "common"}
                db.execute(
                    "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?)",
                    (sid, json.dumps(body), spec.common, json.dumps(asdict(Counters())), created),
                )
            for sid, items in self._tasks.items():
                db.execute("INSERT INTO tasks (sid, batch) VALUES (?, ?)", (sid, _pack(items)))
            touched = set(self._tasks)
            for sid, mark in self._marks.items():
                s = sessions.get(sid)
                if s is None or len(s.history) <= mark:
                    continue
                db.execute("INSERT INTO results (sid, batch) VALUES (?, ?)", (sid, _pack(s.history[mark:])))
                self._marks[sid] = len(s.history)
                touched.add(sid)
            for sid in touched & sessions.keys():
                counters = json.dumps({**asdict(sessions[sid].counters), "next_tid": sessions[sid].next_tid})
                db.execute("UPDATE sessions SET counters = ? WHERE sid = ?", (counters, sid))
            for sid in self._closed:
                for table in ("sessions", "tasks", "results"):
                    db.execute(f"DELETE FROM {table} WHERE sid = ?", (sid,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('next_sid', ?)", (next_sid,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._opened.clear()
        self._tasks.clear()
        self._closed.clear()
        self.writes += 1

    # ---- reading at start --------------------------------------------------------------------------
    def load(self) -> tuple[list[Recovered], int]:
        """Every journaled session, and the highest session id ever handed out."""
        db = self.db
        out: dict[int, Recovered] = {}
        for sid, spec, common, counters, created in db.execute("SELECT * FROM sessions ORDER BY sid"):
            body, counts = json.loads(spec), json.loads(counters)
            rec = Recovered(sid, SessionSpec(**body, common=common), Counters(), created)
            rec.next_tid = int(counts.pop("next_tid", 0))  # absent in journals written before it was kept
            rec.counters = Counters(**counts)
            out[sid] = rec
        for sid, batch in db.execute("SELECT sid, batch FROM results ORDER BY seq"):
            if sid in out:
                out[sid].results.extend(pickle.loads(batch))
        done = {sid: {r[0] for r in rec.results} for sid, rec in out.items()}
        for sid, batch in db.execute("SELECT sid, batch FROM tasks ORDER BY seq"):
            if sid in out:
                items = pickle.loads(batch)
                out[sid].next_tid = max([out[sid].next_tid, *(t[0] + 1 for t in items)])
                out[sid].tasks.extend(t for t in items if t[0] not in done[sid])
        row = db.execute("SELECT value FROM meta WHERE key = 'next_sid'").fetchone()
        return list(out.values()), max([row[0] if row else 0, *out])

    def restore(self, registry: AppRegistry) -> tuple[list[SessionState], int]:
        """The journaled sessions as detached sessions ready to run again (tasks that were running when the
        manager stopped go back to the queue), and the next session id to hand out."""
        found, next_sid = self.load()
        out = []
        for r in found:
            app = registry.apps.get(r.spec.app)
            if app is None:  # its application is gone: nothing could ever run it
                self.closed(r.sid)
                continue
            s = SessionState(r.sid, r.spec, app, r.created)
            s.add(r.tasks)
            s.counters = r.counters
            s.history = list(r.results)
            s.next_tid = max(s.next_tid, r.next_tid)
            s.state = "detached"
            self.adopt(r.sid, len(s.history))
            out.append(s)
        return out, next_sid

    def close(self) -> None:
        self.db.close()


def _pack(items: list[Any]) -> bytes:
    return pickle.dumps(items, protocol=5)

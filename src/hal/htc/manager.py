"""The session manager's decisions: which instance serves which session, what it gets next, and what a lost
instance's tasks become. I/O (sockets, processes) is the server's; this module only sends on given Conns."""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from hal.htc import wire
from hal.htc.app import Application, AppRegistry
from hal.htc.ending import InstanceEnds
from hal.htc.journal import Journal
from hal.htc.sharing import Claim, allocate, slot_asks
from hal.htc.slots import Granted, SlotAsk, SlotProvider
from hal.htc.state import Instance, SessionSpec, SessionState

# (instance id, app, cores, GPUs) -> (process handle with .pid and .poll(), its beacon or None)
Spawn = Callable[[int, Any, tuple[int, ...], tuple[int, ...]], tuple[Any, Any]]
Devices = tuple[tuple[int, ...], tuple[int, ...]]  # (host cores, GPU ids) of a slot
IDLE_LINGER = 3.0  # seconds an unneeded warm instance is kept before its slot goes back
STOPPED = "the session manager stopped (its server shut down) before this task ended"
START_FAILURES = 3  # instances in a row dying before they connect: the application cannot start
log = logging.getLogger("hal.htc")


class Manager(InstanceEnds):
    def __init__(
        self,
        registry: AppRegistry,
        provider: SlotProvider,
        spawn: Spawn,
        close: Callable[[Any], None],
        journal: Journal | None = None,
    ) -> None:
        self.registry = registry
        self.provider = provider
        self.spawn = spawn
        self.close_conn = close  # the server unregisters the socket before closing it
        self.sessions: dict[int, SessionState] = {}
        self.instances: dict[int, Instance] = {}
        self.by_slot: dict[int, int] = {}
        self.slot_devices: dict[int, Devices] = {}  # the cores and GPUs of each held slot, for its instances
        self.finished: deque[dict[str, Any]] = deque(maxlen=200)
        self.totals = {"tasks_done": 0, "instances_lost": 0, "slots_reclaimed": 0}
        self._next_sid = 0
        self._next_iid = 0
        self._last_asks: list[SlotAsk] = []
        self.start_failures: dict[str, int] = {}  # consecutive instances of a pool that died before connecting
        self.faults: dict[str, str] = {}  # per application, the last error that failed it (logged once)
        self.dirty = True  # demand or slots changed: rebalance and re-ask
        self.journal = journal  # keeps recoverable sessions across restarts of the manager
        if journal is not None:
            restored, self._next_sid = journal.restore(registry)
            self.sessions.update((s.sid, s) for s in restored)

    # ---- sessions ----------------------------------------------------------------------------------
    def open_session(self, spec: SessionSpec, client: Any) -> SessionState:
        app = self.registry.get(spec.app)
        self._next_sid += 1
        s = SessionState(self._next_sid, spec, app, time.time())
        s.client = client
        self.sessions[s.sid] = s
        if self.journal is not None and spec.recoverable:
            self.journal.opened(s.sid, spec, s.created)
        self.dirty = True
        return s

    def add_tasks(self, sid: int, items: list[tuple[int, int, bytes]], client: Any) -> None:
        s = self.sessions[sid]
        if s.client is not client:
            raise ValueError("tasks may be added only by the session's own client")
        if s.state != "open":
            raise ValueError(f"session {sid} is {s.state}")
        s.add(items)
        if self.journal is not None and s.spec.recoverable:
            self.journal.added(sid, items)
        if s.fault is not None:
            s.fail_queued(s.fault)
            return
        if len(s.instances) < min(s.demand(), s.app.max_instances):
            self.dirty = True
        self.dispatch(s)

    def close_session(self, sid: int, why: str = "closed") -> None:
        s = self.sessions.pop(sid, None)
        if s is None:
            return
        if self.journal is not None and s.spec.recoverable:
            self.journal.closed(sid)
        lost = STOPPED if why == "shutdown" else ""  # QA: a bare CancelledError read as the user's own cancel()
        if lost:
            s.fail_queued(lost)
        s.cancel(None)
        s.state = why
        s.ended = time.time()
        for inst in [self.instances[iid] for iid in s.instances if iid in self.instances]:
            inst.moving = True  # its tasks still on instances end with it, as in Symphony's session abort
            if inst.outstanding:
                self.abort_instance(inst, s, lost)
        self.flush_session(s)
        self.finished.append(s.summary(time.time()))
        self.dirty = True

    def client_gone(self, client: Any) -> None:
        for s in list(self.sessions.values()):
            if s.client is client:
                s.client = None
                if s.spec.recoverable:
                    s.state = "detached" if s.state == "open" else s.state
                else:
                    self.close_session(s.sid, "aborted")

    def attach(self, sid: int, client: Any) -> SessionState:
        s = self.sessions.get(sid)
        if s is None:
            raise KeyError(f"no live session {sid}")
        if not s.spec.recoverable:
            raise ValueError(f"session {sid} is not recoverable")
        if s.client is not None and s.client is not client:  # QA: the first client's results went to the second
            raise ValueError(f"session {sid} is attached to another client; detach it first")
        s.client = client
        s.state = "open"
        s.outbox = list(s.history or [])
        return s

    def detach(self, sid: int) -> None:
        """Only a recoverable session outlives its client (QA: a detached plain session could never be attached
        again, held its slots and threw its results away)."""
        s = self.sessions[sid]
        if not s.spec.recoverable:
            raise ValueError(f"session {sid} is not recoverable: only one opened with recoverable=True can be detached")
        s.client = None
        s.state = "detached"

    # ---- instances ---------------------------------------------------------------------------------
    def on_grant(self, ev: Granted) -> None:
        self.slot_devices[ev.slot] = (ev.cpus, ev.gpus)
        self._start_instance(ev.slot, ev.pool)

    def _start_instance(self, slot: int, pool: str) -> None:
        self._next_iid += 1
        app = self.registry.apps.get(pool)
        if app is None:
            self.slot_devices.pop(slot, None)
            self.provider.release(slot)
            return
        cpus, gpus = self.slot_devices.get(slot, ((), ()))
        try:
            proc, beacon = self.spawn(self._next_iid, app, cpus, gpus)
        except Exception as exc:  # e.g. out of processes: the slot goes back, this application's tasks say why
            self.slot_devices.pop(slot, None)
            self.provider.release(slot)
            self._app_failed(pool, exc)
            return
        inst = Instance(self._next_iid, slot, pool, proc, time.monotonic(), cpus=cpus, mem_mb=app.mem_mb)
        inst.beacon = beacon
        self.instances[inst.iid] = inst
        self.by_slot[slot] = inst.iid

    def hello(self, iid: int, conn: Any) -> Instance | None:
        inst = self.instances.get(iid)
        if inst is None:
            return None
        inst.conn = conn
        inst.idle_since = time.monotonic()
        self.start_failures.pop(inst.pool, None)
        self.dirty = True
        return inst

    def on_reclaim(self, slot: int, reason: str) -> None:
        iid = self.by_slot.pop(slot, None)
        self.slot_devices.pop(slot, None)
        if iid is None:
            return
        self.totals["slots_reclaimed"] += 1
        self._last_asks = []  # the provider forgot the reclaimed slot: state the whole desire again
        self._drop_instance(self.instances[iid], preempted=True, reason=reason)

    def on_retire(self, slot: int, reason: str) -> None:
        """Its node was drained: no new tasks; the slot goes back once the instance holds none (``done``)."""
        iid = self.by_slot.get(slot)
        if iid is None:
            return
        inst = self.instances[iid]
        inst.retiring = inst.moving = True
        log.info("service instance %s stops taking tasks: %s", iid, reason)
        if not inst.outstanding:
            self._retired(inst)

    def _retired(self, inst: Instance) -> None:
        self.release_slot(inst)
        self._last_asks = []  # ask again: the replacement slot goes to a node that is not drained
        self.dirty = True

    def instance_lost(self, inst: Instance, reason: str) -> None:
        """The process died (or its connection broke): retry its tasks and start a new process on the slot."""
        if inst.iid not in self.instances:
            return
        self.totals["instances_lost"] += 1
        self._drop_instance(inst, preempted=False, reason=reason)
        if self.by_slot.get(inst.slot) != inst.iid:
            return
        del self.by_slot[inst.slot]
        if inst.conn is None:  # died before it ever connected: the application cannot start
            self.start_failures[inst.pool] = self.start_failures.get(inst.pool, 0) + 1
            if self.start_failures[inst.pool] >= START_FAILURES:
                self._give_up(inst, reason)
                return
        self._start_instance(inst.slot, inst.pool)

    def on_refused(self, pool: str, user: str, reason: str) -> None:
        """No slot of this application's size can ever be held here: its queued tasks fail with the reason."""
        app = self.registry.apps.get(pool)
        size = f" ({app.resources_text().partition(';')[0]})" if app is not None else ""
        self._fail_queued(pool, user, f"a service instance of application {pool!r}{size} can never run here: {reason}")
        self.dirty = True

    def _give_up(self, inst: Instance, reason: str) -> None:
        """Stop restarting a service that dies at start-up: free its slot, fail its queued tasks with why."""
        self.start_failures[inst.pool] = 0
        self.slot_devices.pop(inst.slot, None)
        self.provider.release(inst.slot)
        self._fail_queued(inst.pool, None, f"service instances of application {inst.pool!r} fail to start ({reason})")

    def _fail_queued(self, pool: str, user: str | None, why: str) -> None:
        for s in self.sessions.values():
            if s.spec.app == pool and user in (None, s.spec.user):
                s.fail_queued(why)

    # ---- results -----------------------------------------------------------------------------------
    def done(self, inst: Instance, results: list[tuple[int, int, bytes, float]]) -> None:
        s = self.sessions.get(inst.sid) if inst.sid is not None else None
        out = inst.outstanding
        if inst.binding:  # it received the common data (the instance acknowledges a binding with no results)
            inst.binding = False
            if s is not None:
                s.bind_losses = 0
        self.totals["tasks_done"] += len(results)
        for tid, status, data, secs in results:
            if out.pop(tid, None) is None:
                continue
            if s is not None:
                s.inflight -= 1
                if s.cancelled and tid in s.cancelled:
                    s.cancelled.discard(tid)
                    s.counters.cancelled += 1
                    s.emit((tid, wire.S_CANCELLED, b""))
                else:
                    s.finished(tid, status, data, secs)
        if s is not None:
            if inst.moving:
                self.dirty = True
            else:
                self.feed(inst, s)
        if not out:
            inst.idle_since = time.monotonic()
            if inst.retiring:
                self._retired(inst)

    def flush_session(self, s: SessionState) -> None:
        if s.outbox and s.client is not None:
            s.client.send((wire.RESULTS, s.sid, s.outbox))
        if s.outbox:
            s.outbox = []

    # ---- dispatch ----------------------------------------------------------------------------------
    def feed(self, inst: Instance, s: SessionState, most: int = 1 << 30) -> None:
        if inst.moving or not s.queued:
            return
        batch = s.take(min(most, s.room(len(inst.outstanding))))
        if batch:
            inst.outstanding.update(batch)
            s.inflight += len(batch)
            inst.conn.send((wire.RUN, batch))

    def dispatch(self, s: SessionState) -> None:
        """The emptiest instances first, each an even part of the queue: none idles while another holds two."""
        ready = sorted(
            (i for i in map(self.instances.__getitem__, s.instances) if i.conn is not None),
            key=lambda i: len(i.outstanding),
        )
        for n, inst in enumerate(ready):
            if not s.queued:
                return
            self.feed(inst, s, max(1, s.queued // (len(ready) - n)))

    def rebalance(self) -> None:
        """Split each application's live instances among its sessions, move the surplus, ask for slots."""
        now = time.monotonic()
        asks: list[SlotAsk] = []
        wants: dict[str, int] = {}
        pools: dict[str, list[Instance]] = {name: [] for name in self.registry.apps}
        for inst in self.instances.values():
            pools.setdefault(inst.pool, []).append(inst)
        for name, app in self.registry.apps.items():
            try:  # one application's failure fails its own tasks, never the manager (QA: cpus=0 killed it)
                wants[name] = self._share(app, pools[name], asks)
                self.faults.pop(name, None)
            except Exception as exc:
                wants[name] = 0
                self._app_failed(name, exc)
        starving = {name for name, want in wants.items() if want > len(pools[name])}
        for name, want in wants.items():
            # idle slots linger for a quick return, unless another application is waiting for slots
            self._linger(pools[name], want, now, 0.0 if starving - {name} else IDLE_LINGER)
        if asks != self._last_asks:
            self.provider.ask(asks)
            self._last_asks = asks

    def _share(self, app: Application, pool: list[Instance], asks: list[SlotAsk]) -> int:
        """Split the pool's ready instances among the application's sessions, add its asks; its slots wanted."""
        sessions = [s for s in self.sessions.values() if s.spec.app == app.name and s.state in ("open", "detached")]
        ready = [i for i in pool if i.conn is not None and not i.retiring]
        claims = [Claim(s.sid, s.spec.user, s.spec.priority, s.demand()) for s in sessions]
        targets = allocate(len(ready), claims, app.policy)
        for s in sessions:
            s.target = targets.get(s.sid, 0)
        self._move(ready, {s.sid: s for s in sessions}, targets)
        want = sum(allocate(app.max_instances, claims, app.policy).values())
        want = max(want, app.min_instances) if sessions else want
        asks.extend(slot_asks(app.name, app.per_instance, app.policy, claims, want))
        return want

    def _app_failed(self, name: str, exc: Exception) -> None:
        """Logged once per distinct error (rebalance runs every tick); the application's queued tasks fail."""
        why = f"application {name!r} failed in the session manager: {exc!r}"
        if self.faults.get(name) != why:
            self.faults[name] = why
            log.exception("%s; other applications go on", why)
        self._fail_queued(name, None, why)

    def _move(self, ready: list[Instance], sessions: dict[int, SessionState], targets: dict[Any, int]) -> None:
        counts = {sid: 0 for sid in sessions}
        for inst in ready:
            if inst.sid in counts and not inst.moving:
                counts[inst.sid] += 1
        for inst in ready:
            sid = inst.sid
            if sid is not None and sid in counts and not inst.moving and counts[sid] > targets.get(sid, 0):
                inst.moving = True
                counts[sid] -= 1
            if (inst.moving or sid not in counts) and not inst.outstanding:
                hungry = [k for k in counts if counts[k] < targets.get(k, 0)]
                if hungry:
                    new = max(hungry, key=lambda k: targets[k] - counts[k])
                    self._bind(inst, sessions[new])
                    counts[new] += 1
                elif sid is not None and sid not in counts:
                    self._unbind(inst)

    def _bind(self, inst: Instance, s: SessionState) -> None:
        old = self.sessions.get(inst.sid) if inst.sid is not None else None
        if old is not None:
            old.instances.discard(inst.iid)
        inst.sid = s.sid
        inst.moving = False
        inst.binding = True
        s.instances.add(inst.iid)
        inst.conn.send((wire.BIND, s.sid, s.app.target, s.spec.common))
        self.feed(inst, s)

    def _unbind(self, inst: Instance) -> None:
        inst.sid = None
        inst.moving = False
        inst.idle_since = time.monotonic()

    def _linger(self, pool: list[Instance], want: int, now: float, linger: float) -> None:
        """Give back slots above ``want`` once their instance has been idle for ``linger`` seconds."""
        surplus = len(pool) - want
        for inst in sorted(pool, key=lambda i: i.idle_since):
            if surplus <= 0:
                return
            if not inst.outstanding and (inst.sid is None or inst.moving) and now - inst.idle_since >= linger:
                self.release_slot(inst)
                surplus -= 1

    # ---- observability -----------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        now = time.time()
        busy = Counter(i.sid for i in self.instances.values() if i.outstanding)  # an instance runs one at a time
        live = [s.summary(now, busy[s.sid]) for s in self.sessions.values()]
        return {
            "sessions": live + list(self.finished),
            "instances": len(self.instances),
            "slots": self.provider.stats(),
            "totals": dict(self.totals),
            "apps": [a.to_dict() for a in self.registry.apps.values()],
            "journal_writes": self.journal.writes if self.journal is not None else 0,
        }

"""The controller: accepts, persists and cancels jobs, and turns engine plans and executor events into
job transitions. Every change is committed to the store before anyone is answered or a job launched."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from hal.controller import asked_limit
from hal.controller.admission import admit, admit_live, resolve_deps, resolve_ref, switches_ignored
from hal.controller.auth import Identity
from hal.controller.censored import below_asked, learnable
from hal.controller.contracts import Forbidden, Gate, NullObserver, Observer, SubmitError, Submitted
from hal.controller.directives import JobRequest
from hal.controller.event_retry import PendingEnds
from hal.controller.gpu_fix import gpu_fix
from hal.controller.holds import admit_waiting
from hal.controller.jobs import (
    Live,
    Row,
    alloc_json,
    dependencies,
    ended_starts,
    launch_spec,
    log_paths,
    new_row,
    ran_in,
    request_json,
    resubmitted,
    spec_of,
)
from hal.controller.lowered_limit import lower_limit
from hal.controller.machine import Machine
from hal.controller.overrun import settle_ends
from hal.controller.parked import ParkedJobs, flush, hand_over, undefer
from hal.controller.placement_record import record_placements
from hal.controller.reasons import annotate, pending_reason
from hal.controller.requeue import back_to_queue
from hal.controller.startboard import StartBoard
from hal.controller.store import Store
from hal.controller.unstart import put_back, settle, snapshot
from hal.engine.api import RuntimePredictor
from hal.engine.cycle import Scheduler
from hal.engine.fairshare import UsageLedger
from hal.engine.plan import Plan
from hal.engine.plugins.leaf_reserve import placement_book
from hal.engine.predict.basic import UserEstimate
from hal.engine.profile import Profile
from hal.engine.request import Request, request_of
from hal.executors.api import ExecEvent, ExecEventKind, Executor
from hal.executors.hostlist import compress
from hal.model.job import Dependency

log = logging.getLogger("hal.controller")


class Controller:
    """Owns the engine, the machine's CPU sets and the executor; one lock serializes all changes."""

    def __init__(
        self,
        store: Store,
        machine: Machine,
        executor: Executor,
        profile: Profile | None = None,
        predictor: RuntimePredictor | None = None,  # default: user estimates; `hal server` builds its own
        clock: Callable[[], float] = time.time,
        poll: float = 0.02,
        timer: float = 1.0,
        grace: float = 10.0,
    ) -> None:
        self.store, self.machine, self.executor = store, machine, executor
        self.profile = profile or Profile(order="multifactor")
        self.table = machine.table()
        self.book = placement_book(self.table, self.profile, machine.cluster.topology)
        self.sched = Scheduler(self.book, self.table.space, self.profile, predictor or UserEstimate())
        self.clock, self.poll, self.timer, self.grace = clock, poll, timer, grace
        self.live: dict[int, Live] = {}
        self.gates: dict[int, Gate] = {}
        self.gated: set[int] = set()
        self.deferred: dict[int, Live] = {}
        self.cancelling: set[int] = set()
        self.requeueing: dict[int, str] = {}  # job -> who asked (hal requeue): back to the queue when it ends
        self.refused: list[tuple[Live, str]] = []
        self.parked = ParkedJobs()  # pending jobs the cluster no longer fits (hal/controller/parked.py)
        self._verdicts: dict[tuple[object, ...], str | None] = {}  # closed outside the transaction that found them
        self.accounts = UsageLedger(self.profile.half_life)  # `hal usage`: the engine charges it as jobs run
        self.sched.accounts = self.accounts
        self.ended_total: Counter[str] = Counter()
        self.board = StartBoard(members=10)
        self.observer: Observer = NullObserver()
        self.next_id = store.max_job_id() + 1
        self.lock = threading.RLock()
        self.wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self.cycles = 0
        self.htc: Any = None  # HTC slot provider (hal.htc.bridge): takes slot-job starts out of each plan
        self.staging: Any = None  # data plane (hal.data.live.LiveStaging): stages inputs before each launch
        self.down_since: float | None = None  # the previous controller's last beat (controller/alive.py)
        self.drained: dict[str, Any] = {}  # node -> the drain's reason, user, time (hal/controller/drain.py)
        self.ends = PendingEnds(self)  # ends the store could not record yet, retried first each pass
        self.job_env: Any = None  # (job, attempt) -> its own HAL_TOKEN and HAL_HOME (controller/job_tokens.py)

    # ---- submission -----------------------------------------------------------------------------
    def submit(self, req: JobRequest, user: str, key: str | None = None) -> Submitted:
        """Validate, persist (committed before returning), then hand the job to the engine."""
        admit(req, self.machine.cluster)
        switches_ignored(req, self.profile.placement)
        now = self.clock()
        with self.lock:
            admit_live(req, self.staging, self.live, user)  # singleton; an input's writer becomes an afterok
            with self.store.engine.begin() as conn:
                if key and (again := resubmitted(self.store, conn, user, key, req)) is not None:
                    return again
                deps = resolve_deps(self.store, req.dependencies)
                first = self.next_id
                request = request_of(spec_of(first, req, user, now, ()), self.table.space)
                if (why := self._impossible(request)) is not None:  # with the shapes that fit, for too many GPUs
                    raise SubmitError(f"job can never run on this cluster: {why}{gpu_fix(req, request, self.book)}")
                tasks = req.array if req.array is not None else [None]
                stored = request_json(req, deps)  # an array's later tasks share its script and env (below)
                shared = request_json(req, deps, first) if req.array is not None else stored
                rows = [
                    new_row(first + i, req, user, now, (first, t) if t is not None else None, shared if i else stored)
                    for i, t in enumerate(tasks)
                ]
                self.store.insert_jobs(conn, rows, now, "submitted")
                if key:
                    self.store.add_submission(conn, user, key, first, len(rows), now)
            self.next_id += len(rows)
            if req.array_limit is not None:
                self.gates[first] = Gate(req.array_limit)
            for row in rows:  # aftercorr: each task its own (controller/jobs.dependencies)
                self._enqueue(self._live(row, req, dependencies(deps, row["array_task_id"])), now)
            self.wake.set()
        self.observer.submitted(len(rows))
        return Submitted([r["id"] for r in rows], first if req.array is not None else None, False)

    def _impossible(self, request: Request) -> str | None:
        """The book's verdict, memoized by shape: the machine's capacity never changes while we run."""
        key = request.shape
        if key not in self._verdicts:
            self._verdicts[key] = self.book.impossible(request)
        return self._verdicts[key]

    def resolve(self, ref: str) -> list[int]:
        """``12`` (a job, or every task of array 12) or ``12_3`` (one task) into job ids."""
        return resolve_ref(self.store, ref)

    def _live(self, row: Row, req: JobRequest, deps: tuple[Dependency, ...]) -> Live:
        spec = spec_of(row["id"], req, row["user"], row["submit_time"], deps, row["array_job_id"])
        spec = asked_limit.restored(spec, json.loads(row["request"]))  # a raise before a restart or requeue
        return Live(
            row["id"], row["user"], row["partition"], row["state"], spec, req,
            row["array_job_id"], row["array_task_id"], bool(row["requeue"]), int(row.get("restarts") or 0),
        )  # fmt: skip

    def _enqueue(self, live: Live, now: float) -> None:
        self.live[live.job_id] = live
        gate = self.gates.get(live.array_job_id) if live.array_job_id is not None else None
        if gate is not None:
            if gate.inflight >= gate.limit or live.spec.held:  # a held task takes no slot of its %limit
                gate.waiting.append(live.job_id)
                self.gated.add(live.job_id)
                return
            gate.inflight += 1
        self._to_engine(live, now)

    def _to_engine(self, live: Live, now: float) -> None:
        dep_ids = [d.job_id for d in live.spec.dependencies]
        if any(j not in self.sched.known and j in self.live for j in dep_ids):
            self.deferred[live.job_id] = live  # depends on a task still behind its array's limit
            return
        self._ensure_known([j for j in dep_ids if j not in self.sched.known])
        hand_over(self, live, now)  # parked, PENDING with Slurm's reason, if the cluster file changed under it

    def _ensure_known(self, job_ids: list[int]) -> None:
        states = self.store.states(job_ids) if job_ids else {}
        for j in job_ids:
            self.sched.remember(j, None if states.get(j) == "STAGE_OUT" else states.get(j) == "COMPLETED")
        ended_starts(self.store, self.sched, [j for j in job_ids if states.get(j) not in ("PENDING", "RUNNING")])

    # ---- cancel ---------------------------------------------------------------------------------
    def cancel(self, ref: str, who: Identity, grace: float | None = None) -> list[int]:
        ids = self.resolve(ref)
        now = self.clock()
        with self.lock:
            lives = [self.live[j] for j in ids if j in self.live]
            owners = {lv.user for lv in lives} or {r["user"] for r in self.store.query(job_ids=ids[:1])}
            if any(not who.may_see(u) for u in owners):
                raise Forbidden(f"job {ref} belongs to another user; you may cancel only your own jobs")
            with self.store.engine.begin() as conn, self.store.batched(conn):  # one statement, not one a task
                out = self.staging.cancel_stage_out(self, conn, ids, now, who.user) if self.staging else []  # SO
                for lv in lives:
                    if self.staging is not None and self.staging.cancel_staged(self, conn, lv, now, who.user):
                        continue  # it never ran: ended at once, its copy stops within a chunk
                    if lv.state == "RUNNING":
                        self.executor.cancel(lv.job_id, self.grace if grace is None else grace)
                        self.cancelling.add(lv.job_id)
                        self.requeueing.pop(lv.job_id, None)  # a cancel wins over a requeue asked before it
                        self.store.add_events(conn, [(lv.job_id, now, "CANCEL", f"cancel asked by {who.user}")])
                    else:
                        self._drop_pending(lv)
                        self._close(conn, lv, now, "CANCELLED", {"cause": f"cancelled by {who.user}"})
            self.wake.set()
        return [lv.job_id for lv in lives] + out

    def _drop_pending(self, lv: Live) -> None:
        jid = lv.job_id
        if jid in self.gated:  # left in `gated` for _close, which then frees no slot
            self.gates[lv.array_job_id].waiting.remove(jid)  # type: ignore[index]
        elif jid in self.deferred or jid in self.parked:  # _close tells the engine it failed
            self.deferred.pop(jid, None)
            self.parked.drop(jid)
        else:
            self.sched.cancel(jid)

    def _close(self, conn: Connection, lv: Live, when: float, state: str, values: dict[str, Any]) -> None:
        """A job is over: persist it, forget it, and let its array's next task in."""
        self.store.update_job(
            conn, lv.job_id, {"state": state, "end_time": when, **values}, (lv.job_id, when, state, values["cause"])
        )
        self.live.pop(lv.job_id, None)
        if lv.job_id not in self.sched.known:  # it never reached the engine (behind its %limit, deferred, parked or
            self.sched.remember(lv.job_id, False)  # refused): its dependents see it failed, however it ended (QA)
        if state != "STAGE_OUT":  # counted once its outputs settle it (hal/data/outputs.py)
            self.ended_total[state] += 1
            self.observer.ended(state)
        gated = lv.job_id in self.gated  # a task cancelled behind its %limit frees no slot
        self.gated.discard(lv.job_id)
        if lv.array_job_id is not None and lv.array_job_id in self.gates and not gated:
            self.gates[lv.array_job_id].inflight -= 1
            admit_waiting(self, self.gates[lv.array_job_id], when)
        if self.deferred:  # jobs waiting for it outside the engine (it was parked, or behind its %limit)
            undefer(self, when)

    # ---- the loop -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hal-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """The loop and the start-forecast thread (a controller stopped in-process left that one running)."""
        self.board.stop()  # idempotent: the server stops it first, so a forecast in flight ends early
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        next_timer, last, gap, dirty = 0.0, 0.0, 0.005, True
        while not self._stop.is_set():
            woke = self.wake.wait(self.poll)
            if woke:
                self.wake.clear()
            try:
                with self.lock:
                    events = self.executor.events()
                    held = not self._handle(events)  # kept, with those before them, for the next pass
                    dirty = dirty or woke or bool(events) or self.clock() >= next_timer
                    if not held and dirty and time.perf_counter() - last >= gap:  # no start while ends wait
                        spent = self.run_cycle()
                        # the next cycle waits 4x this one: cycles keep under ~1/5 of the lock, so
                        # submissions flow while a long queue makes each cycle expensive
                        last, gap, dirty = time.perf_counter(), min(0.5, max(0.005, 4 * spent)), False
                        next_timer = self.clock() + self.timer
                if held:
                    self._stop.wait(0.2)
            except Exception:  # the loop must survive a bad job or a store hiccup; the next pass retries
                log.exception("controller loop error")
                time.sleep(0.2)

    def run_cycle(self) -> float:
        """Extend overrunning predictions (the engine's contract), run one cycle, launch what it starts."""
        now = self.clock()
        flush(self, now)  # causes of jobs parked or fitting again since the last pass
        if self.refused:
            with self.store.engine.begin() as conn:
                for lv, cause in self.refused:
                    self._close(conn, lv, now, "FAILED", {"cause": cause})
            self.refused.clear()
        settle_ends(self, now)  # the engine's contract: no running job planned to have ended by now
        t0 = time.perf_counter()
        plan = self.sched.cycle(now)
        spent = time.perf_counter() - t0
        settle(self, plan, now, spent)  # HTC grants, starts, then bookkeeping; a failure puts starts back
        return spent

    def _apply(self, plan: Plan, now: float) -> None:
        launches, kept = [], snapshot(self, plan)  # what a failed commit puts back (controller/unstart.py)
        try:
            with self.store.engine.begin() as conn:
                for p in plan.starts:
                    lv = self.live[p.job_id]
                    lowered = {} if p.time_limit is None else lower_limit(self.store, conn, lv, p.time_limit, now)
                    alloc = self.sched.running[p.job_id].alloc
                    held = self.machine.assign(p.job_id, alloc)
                    shares = self.machine.shares(held, alloc.amounts)
                    out, err = log_paths(lv, shares[0].node)
                    nodelist = compress(s.node for s in shares)
                    part = ran_in(lv, [s.node for s in shares], self.machine.members, self.table.partition_tiers)
                    lv.state, lv.partition = "RUNNING", part
                    values = {
                        "state": "RUNNING", "start_time": now, "predicted_end": p.predicted_end, "nodelist": nodelist,
                        "alloc": alloc_json(alloc, held), "alloc_cpus": int(alloc.amounts[:, 0].sum()),
                        "stdout_path": out, "stderr_path": err, "cause": "backfilled" if p.backfilled else "started",
                        "partition": lv.partition, **lowered,
                    }  # fmt: skip
                    self.store.update_job(conn, p.job_id, values, (p.job_id, now, "RUNNING", f"on {nodelist}"))
                    topo = self.machine.topology_addrs([s.node for s in shares])
                    launches.append(launch_spec(lv, shares, out, err, topo, self.machine.cluster.name, self.job_env))
                record_placements(self, conn, plan.starts, now)  # score parts, for `hal explain`
        except Exception:
            put_back(self, kept, now)
            raise
        for p in plan.starts:  # committed: how their forecasts fared calibrates the next p90s
            self.board.forecaster.started(p.job_id, now)
        for spec in launches:
            if self.staging is not None:
                staged = self.staging.before_launch(self, spec, now)
                if staged is None:
                    continue  # back in the queue (or failed) with the stage-in reason
                spec = staged
            try:
                self.executor.launch(spec)
            except Exception as exc:
                log.exception("launch of job %s failed", spec.job_id)
                fail = ExecEvent(spec.job_id, ExecEventKind.ENDED, now, None, None, None, 0.0, 0.0, str(exc))
                self._handle([fail])

    def _handle(self, events: list[ExecEvent]) -> bool:
        """Ends recorded after any still pending; False: some wait for the next pass (controller/event_retry.py)."""
        return self.ends.handle(events)

    def _drain_faulty(self, node: str, why: str) -> None:
        """A launch failed for the node's sake (its CPUs cannot be pinned): drain it, as Slurm drains a node whose
        prolog fails, or every job sent there fails the same way while it looks idle."""
        if node not in self.table.names or node in self.drained:
            return
        from hal.controller.drain import drain

        try:
            drain(self, node, f"launch failed: {why}", Identity("hal", admin=True))
        except Exception:  # the job's end is recorded already; the drain is a courtesy
            log.exception("could not drain %s after a failed launch", node)

    def _ended(self, conn: Connection, ev: ExecEvent) -> None:
        lv = self.live.get(ev.job_id)
        act = self.sched.running.get(ev.job_id)
        if lv is None or act is None or lv.state != "RUNNING":
            return  # a duplicate or late report
        state = ev.state.name if ev.state is not None else "FAILED"
        if ev.job_id in self.cancelling:
            self.cancelling.discard(ev.job_id)
            state = "COMPLETED" if state == "COMPLETED" else "CANCELLED"
        requeued_by = self.requeueing.pop(ev.job_id, None)  # then nothing to stage out: it runs again
        state, cause = ("CANCELLED", f"requeued by {requeued_by}") if requeued_by else (state, ev.reason)
        when, cause = max(ev.time, act.start), cause or state.lower()
        if self.staging is not None:  # unpin inputs, queue declared outputs for stage-out; FAILED if one is missing
            state, cause = self.staging.after_end(self, lv, act, state, cause)
        elif state == "COMPLETED" and lv.spec.outputs:  # a restart without [data]: they can never be staged out
            state, cause = "FAILED", "outputs never staged out: this server has no data plane ([data])"
        # cut short (a --time-min cut's TIMEOUT too): learned neither by the predictor nor the forecaster (censored.py)
        learn = learnable(state, below_asked(lv.request.time_limit, lv.request))
        self.board.ended(self.sched.predictor, act, when, learn)  # the forecaster's runtime errors
        self.machine.release(ev.job_id)  # then finish charges the rest of its usage (engine/accrual.py)
        ok = None if state == "STAGE_OUT" else state == "COMPLETED"
        self.sched.finish(ev.job_id, when, ok=ok, learn=learn)
        never_ran = ev.start_time is None and not ev.unknown  # unknown: it may run on (QA HIGH: it ran twice)
        if requeued_by or (state == "NODE_FAIL" and (lv.requeue or never_ran)):
            event = "REQUEUED" if requeued_by or never_ran else "NODE_FAIL"  # never ran: no node failed
            self._requeue(conn, lv, when, cause, event, 1, ev)  # a restart all the same: Slurm counts every requeue
            return
        values = {
            "exit_code": ev.exit_code, "signal": ev.signal, "cpu_seconds": ev.cpu_seconds,
            "max_rss_mb": ev.max_rss_mb, "cause": cause,
        }  # fmt: skip
        self._close(conn, lv, when, state, values)

    def _requeue(
        self, conn: Connection, lv: Live, when: float, cause: str, event: str = "NODE_FAIL", n: int = 1,
        ended: ExecEvent | None = None,
    ) -> None:  # fmt: skip
        """NODE_FAIL with --requeue, `hal requeue` or a failed stage-in: back in the queue (controller/requeue.py)."""
        back_to_queue(self, conn, lv, when, cause, event, n, ended)

    # ---- what the API reads ---------------------------------------------------------------------
    def reason(self, job_id: int) -> str:
        return pending_reason(self, job_id)

    def annotate(self, rows: list[Row], start: bool = False) -> list[Row]:
        """Reasons and queue places of pending rows; with ``start``, forecast starts (hal/controller/reasons.py)."""
        return annotate(self, rows, start)

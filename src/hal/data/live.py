"""The controller's stage-in step: before a launch, copy the job's inputs into its nodes' caches.

Wired with one attribute on the Controller (``controller.staging = LiveStaging(stager)``): the job then
finds its inputs at $HAL_DATA/<name>. Inputs already cached on every node launch at once; otherwise the job
holds its nodes in the staging state (``LiveStaging.staging``) while a worker thread copies, and launches
when the copies are verified, so a large transfer never stalls the controller loop (catalog and cache
updates take the controller's lock; copies never do). A stage-in that fails after the stager's retry
policy sends the job back to the queue (a new attempt, like a requeue after NODE_FAIL) with the reason, up
to ``max_requeues`` times (held ``requeue_wait`` s before each, doubling), then fails it with that reason; it is
never silently dropped. A node whose own cache fails (before staging or mid-copy: a full or read-only disk) is
drained instead, and the job requeued for another node without using an attempt; held for an administrator once
its stage-in has drained two (hal/data/node_faults.py); a node whose disk is too small for its inputs is not
drained but excluded from the job's next attempts, which fail only when no node could hold them
(hal/data/small_disk.py). A job cancelled while staging ends CANCELLED when its copy returns.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hal.controller.stage_cut import stage_retries
from hal.data.cache import CacheFull, CacheWriteError
from hal.data.cache_wait import WAIT_CAUSE, wait_for_room, wake_waiters
from hal.data.cancel_out import cancel_stage_out
from hal.data.kept_room import recount
from hal.data.launch_clock import start_clock
from hal.data.node_faults import hold_for_admin, no_room, node_broken, node_of, room_of
from hal.data.outputs import OutputStaging
from hal.data.restart import resume as resume_plane
from hal.data.small_disk import avoid_small
from hal.data.stage_out import unpublishable
from hal.data.stager import StageCancelled, StageError, Stager
from hal.data.worker_guard import guarded, internal
from hal.executors.api import ExecEvent, ExecEventKind, LaunchSpec

log = logging.getLogger("hal.data")


RETRY_CAUSE = "requeued after a failed stage-in"
EXPECTED = (StageError, StageCancelled, KeyError, OSError, ValueError, CacheFull)  # others are bugs: logged


class LiveStaging:
    def __init__(self, stager: Stager, max_requeues: int = 2, outputs: OutputStaging | None = None) -> None:
        self.stager = stager
        self.max_requeues = max_requeues
        self.outputs = outputs
        self.staging: dict[int, str] = {}  # job -> "staging" while its inputs are copied
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hal-stage-in")
        self.failures: dict[int, str] = {}
        self.cache_wait = 30.0  # s a job first waits when the caches are full of running jobs' inputs
        self.cache_waits: dict[int, int] = {}  # job -> times it waited for cache room
        self.requeue_wait = 60.0  # s a job whose stage-in failed is held before its next attempt (doubling)
        self.owned: Any = None  # the catalog and cache folders' locks (hal/data/owner.py), held until shutdown
        self.resumed = threading.Event()  # set by ``resume``: the kept-output sweep waits for it (hal.data.kept_sweep)
        self.kept_since: dict[tuple[str, int], float] = {}  # (node, job) -> its kept outputs' window start (the sweep)

    def refuse(self, inputs: list[str], produced: set[str]) -> str | None:
        """Why a submission's inputs can never be staged (controller thread, under its lock): a dataset no
        catalog entry and no unfinished job's declared output (``produced``) will provide, or one larger
        than every node cache."""
        with self.stager.guard():
            known = {name: self.stager.catalog.datasets.get(name) for name in inputs}
        if self.outputs is not None:  # ended jobs' outputs still being copied out will be in the catalog too
            produced = produced | self.outputs.in_flight(inputs)
        largest = self.stager.largest_cache()
        most = max((c.capacity for c in self.stager.caches.values()), default=0)
        disk = "" if largest >= most else ": the size of the disk"
        for name, dataset in known.items():
            if dataset is None and name not in produced:
                return f"unknown dataset {name!r}: not in the catalog, and no queued or running job outputs it"
            if dataset is not None and dataset.size > largest:
                size = f"{dataset.size:,} bytes"
                return f"dataset {name!r} ({size}) is larger than every node cache ({largest:,} bytes{disk})"
        together = sum(d.size for d in known.values() if d is not None)
        if together > largest:  # each fits, but a node must hold them all at once
            size = f"{together:,} bytes"
            return f"its inputs together ({size}) are larger than every node cache ({largest:,} bytes{disk})"
        return None

    def uncataloged(self, names: list[str]) -> list[str]:
        with self.stager.guard():
            return [n for n in names if n not in self.stager.catalog.datasets]

    def reason_of(self, row: dict[str, Any], controller: Any) -> str:
        """The pending reason, told apart where the data plane holds a job back (as BeginTime in the engine)."""
        reason = str(controller.reason(row["id"]))
        cause = str(row.get("cause") or "")
        if reason == "BeginTime" and cause == WAIT_CAUSE:
            return "CacheWait"
        if reason == "BeginTime" and cause.startswith(RETRY_CAUSE):
            return "StageInRetry"
        return reason

    def refuse_outputs(self, outputs: list[str], produced: set[str]) -> str | None:
        """Why declared outputs cannot be accepted: a dataset of that name exists (a new version would leave
        stale copies in node caches, and one job's nodes could read two versions) or an unfinished job will
        write it."""
        with self.stager.guard():
            taken = [n for n in outputs if n in self.stager.catalog.datasets]
        if taken:
            return f"--output-data={taken[0]}: the catalog already has a dataset {taken[0]!r}; outputs are new datasets"
        clash = [n for n in outputs if n in produced]
        if clash:
            return f"--output-data={clash[0]}: a queued or running job already declares that output"
        copying = sorted(self.outputs.in_flight(outputs)) if self.outputs is not None else []
        if copying:  # an ended job's output on its way out: it was replaced silently when both landed
            return f"--output-data={copying[0]}: an ended job's output of that name is being staged out"
        return None

    def resume(self, controller: Any, since: float) -> dict[str, int]:
        """After a restart: the caches checked against the catalog and the outputs left unsettled staged out
        (``hal.data.restart.resume``). Counts, for the log. Only then may the kept-output sweep run: before, the
        outputs still to be staged out are marked nowhere, and it deleted them (``hal.data.kept_sweep``)."""
        counts = resume_plane(self, controller, since)
        self.resumed.set()
        recount(self, controller)  # kept outputs take their room at once, not at the sweep 30 s on (QA)
        return counts

    def before_launch(self, controller: Any, spec: LaunchSpec, now: float) -> LaunchSpec | None:
        """The spec with $HAL_DATA set once every input is staged, or None when the job went back to wait. Never
        raises: it runs in the controller's loop, where a job was left RUNNING with nothing running (QA)."""
        lv = controller.live.get(spec.job_id)
        try:
            return self._before_launch(controller, spec, now)
        except OSError as exc:  # a node's cache unusable: that node drained (QA: the job's first, a healthy one)
            self.staging.pop(spec.job_id, None)
            node = node_of(exc, self.stager.caches, [s.node for s in spec.shares])
            if node is None:  # no cache of the job's names it: the job's stage-in failed, no node is blamed
                self._back_to_queue(controller, lv, now, f"stage-in failed: {exc}")
            else:
                self._node_broken(controller, lv, {node: f"cannot use node {node}'s cache: {exc}"}, now)
        except Exception as exc:
            self.staging.pop(spec.job_id, None)
            self._back_to_queue(controller, lv, now, f"stage-in failed: {_said(exc)}")
        return None

    def _before_launch(self, controller: Any, spec: LaunchSpec, now: float) -> LaunchSpec | None:
        self._unpin_ended(controller)
        lv = controller.live.get(spec.job_id)
        if lv is not None and spec.job_id in self.cache_waits:  # woken early from a cache wait: its stored hold
            with controller.store.engine.begin() as conn:  # ends now (EligibleTime was after StartTime, QA)
                self._keep_hold(controller, conn, lv, None)
        inputs = tuple(getattr(lv.spec, "inputs", ())) if lv is not None else ()
        nodes = [s.node for s in spec.shares]
        if not nodes or nodes[0] not in self.stager.caches:
            return spec
        broken: dict[str, str] = {}
        for node in nodes:  # a folder gone is made again; a file in its place: that node is drained, not the first
            try:
                self.stager.caches[node].ready()
            except OSError as exc:
                broken[node] = f"cannot use node {node}'s cache: {exc}"
        if broken:
            self._node_broken(controller, lv, broken, now)
            return None
        ready = dataclasses.replace(spec, env={**spec.env, **self.stager.env(nodes, spec.job_id)})
        if not inputs:
            return ready if self._opened(controller, lv, nodes, (), now) else None
        producing = self.outputs.in_flight(inputs) if self.outputs is not None else set()
        try:  # every input cached: pinned and launched now, each copy looked at once (a tree's look walks it)
            cached = not producing and self.stager.pin_cached(spec.job_id, inputs, nodes)
        except CacheWriteError as exc:  # a read-only disk: the node's fault, not the job's
            self._node_broken(controller, lv, {exc.node: f"cannot write into node {exc.node}'s cache: {exc}"}, now)
            return None
        except Exception as exc:  # KeyError, an unusable cache: never out of the controller's loop
            self._back_to_queue(controller, lv, now, f"stage-in failed: {_said(exc)}")
            return None
        if not cached:  # copies, a first check, or an input still being written out: on a worker thread
            self.staging[spec.job_id] = "staging"
            work = functools.partial(self._stage_then_launch, controller, lv, ready, inputs, nodes)
            end = functools.partial(self._crashed, controller, lv)
            self._pool.submit(guarded, f"job {spec.job_id}: stage-in", work, end)
            return None
        return ready if self._opened(controller, lv, nodes, inputs, now) else None

    def _opened(self, controller: Any, lv: Any, nodes: list[str], inputs: tuple[str, ...], now: float) -> bool:
        """The job's $HAL_DATA made on each of its nodes (a multi-node job's tasks all read the first node's).
        A cache that cannot hold it (read-only, full, a file in the way) is the node's fault, not the job's: as
        Slurm does on a failed prolog, the node is drained with the reason and the job goes back to the queue
        without using up an attempt, to run elsewhere (it failed every job sent there, and the node stayed in
        service). Never raised in the controller loop, where it was left RUNNING, deaf to hal cancel."""
        broken: dict[str, str] = {}
        for node in nodes:
            try:
                self.stager.open_job_dir(lv.job_id, node, inputs)
            except OSError as exc:
                broken[node] = f"cannot make $HAL_DATA in node {node}'s cache: {exc}"
        if not broken:
            return True
        for node in set(nodes) - broken.keys():
            self.stager.close_job_dir(node, lv.job_id)
        self._node_broken(controller, lv, broken, now)
        return False

    def _node_broken(self, controller: Any, lv: Any, broken: dict[str, str], now: float) -> None:
        node_broken(self, controller, lv, broken, now)  # drained, the job requeued (held past DRAIN_HOLD drains)

    def _stage_then_launch(
        self, controller: Any, lv: Any, spec: LaunchSpec, inputs: tuple[str, ...], nodes: list[str]
    ) -> None:
        """Worker thread: copy (unlocked), then launch, requeue or cancel under the controller's lock."""
        cause, busy, gone, broken, rooms, small_at = "", False, False, {}, {}, ""
        try:
            rooms = room_of(self.stager, inputs, nodes)  # a full disk too small for them is no node's fault
            if self.outputs is not None:  # an input an ended job is still staging out (a pipeline): wait for it
                stop = lambda: spec.job_id in controller.cancelling  # noqa: E731
                if not self.outputs.wait_settled(inputs, stop=stop):
                    raise StageCancelled(f"job {spec.job_id} was cancelled while it waited for its inputs")
            self.stager.stage_in(spec.job_id, inputs, nodes)
        except Exception as exc:  # StageError, an unknown dataset, anything: the job must not be lost
            cause = f"stage-in failed: {_said(exc)}"
            if not isinstance(exc, EXPECTED):  # a bug: its traceback logged, the job told (and requeued)
                log.exception("job %s: stage-in raised", spec.job_id)
                cause = f"stage-in failed: {internal(exc)}"
            small = no_room(exc, rooms)
            if small:  # cache_bytes above what its disk holds: not the node's fault (QA: it drained every node),
                cause, small_at = f"stage-in failed: {small}", getattr(exc, "node", "")  # the job goes elsewhere
            elif isinstance(exc, CacheWriteError):  # the node's own cache failed mid-copy (a full or read-only disk)
                broken = {exc.node: f"cannot write into node {exc.node}'s cache: {exc}"}
            full = exc.__cause__ if isinstance(exc.__cause__, CacheFull) else None
            busy = full is not None and full.pinned
            gone = isinstance(exc, KeyError)  # not in the catalog (its writer's stage-out failed): retrying won't help
            lost = [n for n in inputs if self.outputs is not None and n in self.outputs.lost]
            if gone and lost and self.outputs is not None:
                cause = f"stage-in failed: input {lost[0]!r} was never published ({self.outputs.lost[lost[0]]})"
            never = self.refuse(list(inputs), set(inputs)) if full is not None and not busy else None
            if never:  # larger than every cache (its size known only now: another job wrote it): no retry helps
                cause, gone = f"stage-in failed: {never}", True
        with controller.lock:
            self.staging.pop(spec.job_id, None)
            now = controller.clock()
            if self.stager.closing.is_set():  # the server stops: the job never ran, so its next start requeues it
                log.info("job %s: stage-in cut short by the server stopping", spec.job_id)
                return
            if controller.live.get(spec.job_id) is not lv or lv.state != "RUNNING":
                self.stager.release(spec.job_id)
                return
            if spec.job_id in controller.cancelling:
                ended = ExecEvent(spec.job_id, ExecEventKind.ENDED, now, reason="cancelled while staging its inputs")
                controller._handle([ended])
            elif broken:  # not the data's fault: the node is drained, the job runs elsewhere (no attempt used)
                self._node_broken(controller, lv, broken, now)
                controller.wake.set()
            elif busy:  # the caches are full of running jobs' inputs: wait for them, this is no failure
                wait_for_room(self, controller, lv, now, cause)
                controller.wake.set()
            elif small_at:  # its next attempts avoid that node (hal/data/small_disk.py)
                avoid_small(self, controller, lv, inputs, rooms, small_at, cause, now)
                controller.wake.set()
            elif cause:
                self._back_to_queue(controller, lv, now, cause, retry=not gone)
                controller.wake.set()
            elif self._opened(controller, lv, nodes, inputs, now):  # else back in the queue with the reason
                try:
                    limit = start_clock(controller, spec.job_id, now)
                    controller.executor.launch(spec if limit is None else dataclasses.replace(spec, time_limit=limit))
                except Exception as exc:
                    log.exception("launch of job %s failed", spec.job_id)
                    controller._handle([ExecEvent(spec.job_id, ExecEventKind.ENDED, now, reason=str(exc))])

    def _crashed(self, controller: Any, lv: Any, exc: Exception) -> None:
        """``_stage_then_launch`` raised after its copy (recording the outcome): the attempt ends FAILED with it."""
        with controller.lock:
            self.staging.pop(lv.job_id, None)
            if controller.live.get(lv.job_id) is lv and lv.state == "RUNNING" and not self.stager.closing.is_set():
                why = f"stage-in failed: {internal(exc)}"
                controller._handle([ExecEvent(lv.job_id, ExecEventKind.ENDED, controller.clock(), reason=why)])

    def after_end(self, controller: Any, lv: Any, act: Any, state: str, cause: str) -> tuple[str, str]:
        """A job ended (controller thread): unpin its inputs, queue its declared outputs for stage-out (worker
        threads, hal/data/outputs.py, so the controller loop never waits for a copy) and remove the rest of
        its $HAL_DATA. The state and cause to record: a job that exited 0 without writing a declared output
        FAILED (its readers, which wait on afterok, would otherwise start and find no dataset); one whose outputs
        are being staged out STAGE_OUT (Slurm's SO) until they settle it COMPLETED or FAILED."""
        self.stager.release(lv.job_id)
        wake_waiters(self, controller, lv.job_id)  # jobs held for cache room try again now
        node = controller.table.names[int(act.alloc.nodes[0])] if len(act.alloc.nodes) else ""
        if node not in self.stager.caches:
            return state, cause
        outputs = tuple(dict.fromkeys(getattr(lv.spec, "outputs", ())))
        folder = self.stager.job_dir(node, lv.job_id)
        wrong = [unpublishable(folder / n) for n in outputs] if state == "COMPLETED" else []
        if any(wrong):
            state, cause = "FAILED", "declared output(s) " + "; ".join(w for w in wrong if w)
        staged = outputs if state == "COMPLETED" and self.outputs is not None else ()
        self.stager.close_job_dir(node, lv.job_id, keep=staged)  # outputs: from the first node's, as documented
        for other in {controller.table.names[int(i)] for i in act.alloc.nodes[1:]} & self.stager.caches.keys():
            self.stager.close_job_dir(other, lv.job_id)
        if staged:
            self.outputs.after_end(controller, lv.job_id, staged, node, state, lv.user)  # type: ignore[union-attr]
            return "STAGE_OUT", cause
        return state, cause

    def cancel_staged(self, controller: Any, conn: Any, lv: Any, now: float, who: str) -> bool:
        """`hal cancel` of a job whose inputs are being staged (it never ran): ended CANCELLED at once, in the
        records (a restart used to run it), and its copy stops within a chunk. False: not staging."""
        if lv.job_id not in self.staging:
            return False
        controller.cancelling.add(lv.job_id)  # the copy's next chunk stops it; its thread then finds it gone
        controller.requeueing.pop(lv.job_id, None)  # a requeue asked before: the cancel ends it, closed for good
        self.stager.release(lv.job_id)
        controller.machine.release(lv.job_id)
        controller.sched.finish(lv.job_id, now, ok=False, ran=False)
        controller._close(conn, lv, now, "CANCELLED", {"cause": f"cancelled by {who} while its inputs were staged"})
        return True

    def cancel_stage_out(self, controller: Any, conn: Any, ids: list[int], now: float, who: str) -> list[int]:
        """`hal cancel` of jobs in STAGE_OUT among ``ids``: ended CANCELLED, their copies stopped
        (``hal.data.cancel_out``); the ids of those it ended."""
        return [] if self.outputs is None else cancel_stage_out(self.outputs, controller, conn, ids, now, who)

    def shutdown(self) -> None:
        """The server stops: copies stop within a chunk (instead of holding the exit for a large transfer);
        the jobs they were for never ran and are requeued by the next start, which also stages out the outputs
        left unsettled."""
        if self.outputs is not None:
            self.outputs.shutdown()
        self.stager.closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.owned is not None:
            self.owned.release()

    def _back_to_queue(self, controller: Any, lv: Any, now: float, cause: str, retry: bool = True) -> None:
        """Requeue (held ``requeue_wait`` s, doubling with each restart, so a storage outage of minutes does not
        use up every attempt within seconds) or, past ``max_requeues``, fail with the stage-in reason."""
        log.warning("job %s: %s", lv.job_id, cause)
        self.failures[lv.job_id] = cause
        self.stager.release(lv.job_id)
        tries = stage_retries(controller.store, lv.job_id, lv.restarts)  # a restart mid-copy uses up none
        with controller.store.engine.begin() as conn:
            controller.machine.release(lv.job_id)
            controller.sched.finish(lv.job_id, now, ok=False, ran=False)
            if retry and tries < self.max_requeues:
                hold = self.requeue_wait * 2 ** min(tries, 4)
                lv.spec = dataclasses.replace(lv.spec, begin_time=max(lv.spec.begin_time or 0.0, now + hold))
                controller._requeue(conn, lv, now, cause, "REQUEUED")  # a failed stage-in: no node failed
                self._keep_hold(controller, conn, lv, f"{RETRY_CAUSE}: {cause}")
            else:
                controller._close(conn, lv, now, "FAILED", {"cause": cause, "exit_code": 1})  # launch failed: 1:0 (QA)

    def _unstart(
        self, controller: Any, lv: Any, now: float, cause: str, begin: float | None, hold_cause: str = "",
        held: bool = False, request: str | None = None,
    ) -> None:  # fmt: skip
        """Back to the queue as if it never started, its attempt not counted; held until ``begin`` if given, or
        with ``held`` until an administrator releases it; ``request``: its stored request, changed."""
        self.stager.release(lv.job_id)
        with controller.store.engine.begin() as conn:
            controller.machine.release(lv.job_id)
            controller.sched.finish(lv.job_id, now, ok=False, ran=False)
            controller.sched.forget(lv.job_id)
            lv.state = "PENDING"
            if begin is not None:
                lv.spec = dataclasses.replace(lv.spec, begin_time=begin)
            values = {
                "state": "PENDING",
                "start_time": None,
                "nodelist": "",
                "alloc": "",
                "cause": hold_cause or cause,
            } | ({"request": hold_for_admin(controller, lv)} if held else {"request": request} if request else {})
            controller.store.update_job(conn, lv.job_id, values, (lv.job_id, now, "PENDING", cause))
            if begin is not None:
                self._keep_hold(controller, conn, lv, hold_cause)
            controller._to_engine(lv, now)

    @staticmethod
    def _keep_hold(controller: Any, conn: Any, lv: Any, cause: str | None) -> None:
        """The hold's end as the job's begin time in its stored request, so a restart keeps it instead of
        retrying at once (and using up an attempt); the cause says why (the stage-in error itself; None: kept)."""
        row = controller.store.get(lv.job_id) or {}
        request = json.loads(row.get("request") or "{}")
        request["begin"] = lv.spec.begin_time
        values = {"request": json.dumps(request)} | ({"cause": cause} if cause is not None else {})
        controller.store.update_job(conn, lv.job_id, values)

    def _unpin_ended(self, controller: Any) -> None:
        pinned = {j for cache in self.stager.caches.values() for holders in cache.pins.values() for j in holders}
        for job_id in pinned:
            lv = controller.live.get(job_id)
            if lv is None or lv.state != "RUNNING":
                self.stager.release(job_id)


def _said(exc: Exception) -> str:
    """An exception's message; a KeyError's str() would wrap it in quotes."""
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)

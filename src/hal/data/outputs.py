"""Stage-out after a job ends: copies run on worker threads so a large transfer never stalls the controller.

The split follows what may run unlocked: checksum and copy (``Stager.copy_out``) touch only the job's own
files; registering the result in the catalog (which feeds the locality costs the engine reads) and writing
the job's event run under the controller's lock, between cycles. Each declared output has a state,
``staging`` -> ``done`` or ``failed: <reason>``, kept in ``OutputStaging.states`` and in the job's events
(``STAGE_OUT``). The job itself is in state STAGE_OUT (Slurm's SO) from the end of its processes until its
last output settles; then COMPLETED, or FAILED when an output never arrived, and only then do jobs that depend
on how it ended (afterok, afternotok, afterany) go, as Slurm's do after a burst buffer's stage-out.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hal.data.catalog import public_uri
from hal.data.destination import writer_of
from hal.data.fit import NO_DATA_PLANE
from hal.data.kept_room import count_kept
from hal.data.stage_out import unpublish
from hal.data.stager import StageCancelled, StageError, Stager
from hal.data.worker_guard import guarded, internal

log = logging.getLogger("hal.data")


EVENT = "STAGE_OUT"  # the job event each settled output writes, its cause "name: state (detail)"
NEVER_STAGED = "outputs never staged out"  # how the cause of a job a server without a data plane ended begins
REQUEUED = "REQUEUED"  # the event of a job back in the queue (hal.controller.requeue): a new attempt begins


def states_from_events(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each output's latest settled state from a job's events: they outlive a restart, unlike ``states``."""
    states: dict[str, str] = {}
    for e in events:
        if e["state"] == REQUEUED:  # a new attempt: an earlier one's outputs say nothing of its own
            states.clear()
            continue
        name, _, state = str(e["cause"]).partition(": ")
        if e["state"] == EVENT and state.startswith(("done", "failed")):  # not the job's own STAGE_OUT state
            states[name] = state
    return states


def abandon_data_jobs(controller: Any, why: str) -> dict[str, int]:
    """A server without a data plane (or a stage-out destination) cannot serve jobs that declared datasets:
    those a previous server left in STAGE_OUT end FAILED with ``why`` (each output recorded as failed, so the
    next server with a data plane keeps its file). Queued ones that read or write datasets were parked by
    ``recover`` (hal/data/fit.py): PENDING with reason NoDataPlane until a restart with a data plane runs them
    (they were FAILED, held ones too). Running ones end FAILED when they end if they declared outputs
    (``Controller._ended``). So each ends exactly once and its dependents learn it. Counts, for the log."""
    rows = controller.store.query(states=["STAGE_OUT"], limit=200_000)
    now, cause = controller.clock(), f"{NEVER_STAGED}: {why}"
    with controller.lock, controller.store.engine.begin() as conn:
        for row in rows:
            outputs = json.loads(row["request"]).get("outputs") or []
            told = states_from_events(controller.store.events_of(row["id"]))
            events = [(row["id"], now, EVENT, f"{n}: failed: {why}") for n in outputs if n not in told]
            controller.store.add_events(conn, [*events, (row["id"], now, "FAILED", cause)])
            controller.store.update_job(conn, row["id"], {"state": "FAILED", "cause": cause})
            controller.sched.remember(int(row["id"]), False)
        parked = sum(p.reason == NO_DATA_PLANE for p in controller.parked.jobs.values())
    return {k: v for k, v in (("stage_out", len(rows)), ("parked", parked)) if v}


class OutputStaging:
    def __init__(self, stager: Stager, dest: str, home: str = "origin", workers: int = 2) -> None:
        self.stager = stager
        self.dest = dest  # a URI template with {name} and optionally {job}
        self.home = home  # the catalog location of the destination replica
        self.states: dict[int, dict[str, str]] = {}
        self.copying: Counter[str] = Counter()  # outputs being staged out now, by name (a reader may wait)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hal-stage-out")
        self._pending: set[Future[Any]] = set()
        self._guard = threading.Lock()
        self._settled = threading.Condition(self._guard)  # notified as each output settles
        self.lost: dict[str, str] = {}  # output name -> why it was never published (a reader is told)
        self.concluded: set[int] = set()  # jobs whose end was recorded: never concluded (or counted) twice
        self.cancelled: dict[int, str] = {}  # job -> who cancelled its stage-out: its copies stop, publish nothing
        self._attempts: dict[int, object] = {}  # job -> the token its copies carry; a requeue (``forget``) retires it
        self.owners: dict[int, str] = {}  # job -> its user: a reader of its outputs waits on it (``writers``)
        self.sending: dict[str, set[int]] = {}  # name -> jobs queued to stage it out (``writers``; pruned lazily)

    def after_end(
        self, controller: Any, job_id: int, outputs: tuple[str, ...], node: str, state: str, user: str = ""
    ) -> None:
        """Called as a job ends (controller thread): queue its declared outputs, return at once."""
        if not outputs or state != "COMPLETED" or node not in self.stager.caches or job_id in self.cancelled:
            return
        with self._guard:
            self.owners[job_id] = user or self.owners.get(job_id, "")
            before = self.states.get(job_id, {})
            # each copied once: a settled one too (its file is now in the cache; a second copy found nothing and
            # failed the COMPLETED job when a restart's catch-up handed on a job recover() had already handed on)
            outputs = tuple(n for n in dict.fromkeys(outputs) if n not in before)
            self.copying.update(outputs)
            self.states[job_id] = {**before, **dict.fromkeys(outputs, "staging")}
            for name in outputs:
                self.sending.setdefault(name, set()).add(job_id)
            token = self._attempts.setdefault(job_id, object())
        for name in outputs:
            uri = self.dest.format(name=name, job=job_id)
            work = functools.partial(self._copy, controller, job_id, name, node, uri, token)
            end = functools.partial(self._crashed, controller, job_id, name, node, token)
            fut = self._pool.submit(guarded, f"job {job_id}: stage-out of {name}", work, end)
            self._pending.add(fut)
            fut.add_done_callback(self._pending.discard)

    def _copy(self, controller: Any, job_id: int, name: str, node: str, uri: str, token: object = None) -> None:
        """Worker thread: the copy unlocked, then the catalog update and the event under the controller lock."""
        policy, why = self.stager.policy, ""
        writer = writer_of(controller.store, job_id, self.owners.get(job_id, ""))  # may replace a forgotten output

        def stop() -> bool:  # `hal cancel` (``hal.data.cancel_out``) or a requeue since: stops within a chunk
            return job_id in self.cancelled or self._stale(job_id, token)

        for attempt in range(1, policy.attempts + 1):
            if stop():
                return
            try:
                digest, size = self.stager.copy_out(job_id, name, node, uri, stop, writer)
                break
            except StageCancelled:  # a stopping server (no event: its next start stages this out) or a cancel
                return
            except (StageError, OSError) as exc:
                why = str(exc).replace(uri, public_uri(uri))  # the job's owner reads it; the template is the admin's
                if attempt < policy.attempts and not isinstance(exc, StageError):
                    if self.stager.closing.wait(policy.delay(attempt)):  # a stopping server does not wait it out
                        return
                    continue
                if attempt > 1 or not isinstance(exc, StageError):  # how many tries it had (QA: only the last said)
                    said = "; ".join(exc.reasons) if isinstance(exc, StageError) else str(exc)
                    why = f"after {attempt} attempt(s): {said.replace(uri, public_uri(uri))}"
                self._settle(controller, job_id, name, node, f"failed: {why}", token=token)
                return
        with controller.lock:  # a cancel takes it too: the output is published and settled, or neither
            withdrawn = stop()  # cancelled (or requeued) as its last bytes landed: what reached the destination goes
            partials = job_id in self.cancelled  # and copies under way, but not a new attempt's
            if not withdrawn:
                self._publish(controller, job_id, name, node, uri, digest, size, token)
        if withdrawn:  # unlocked: a destination that hangs must not freeze the controller
            unpublish(uri, partials=partials)

    def _publish(
        self, controller: Any, job_id: int, name: str, node: str, uri: str, digest: str, size: int, token: object
    ) -> None:
        """The copy registered in the catalog and the output settled (controller lock held)."""
        try:
            owner = str((controller.store.get(job_id) or {}).get("user", ""))  # may remove it, as admins may
            self.stager.register_out(job_id, name, node, uri, digest, size, self.home, owner)
        except Exception as exc:  # a full cache or a bad catalog path: the copy exists, say so
            why = f"failed: copied to {public_uri(uri)} but not registered: {exc}"
            self._settle(controller, job_id, name, node, why, token=token)
            return
        self._settle(controller, job_id, name, node, "done", f"{size} bytes to {public_uri(uri)}", token)

    def _crashed(self, controller: Any, job_id: int, name: str, node: str, token: object, exc: Exception) -> None:
        """An error ``_copy`` did not expect: the output fails with it (unless it had settled), as any failed copy."""
        with self._guard:
            settling = self.states.get(job_id, {}).get(name) == "staging" and not self._stale(job_id, token)
        if settling:
            self._settle(controller, job_id, name, node, f"failed: {internal(exc)}", token=token)

    def _stale(self, job_id: int, token: object) -> bool:
        """A copy of an attempt a requeue has since put behind it (None: a caller that predates attempts)."""
        return token is not None and self._attempts.get(job_id) is not token

    def forget(self, job_id: int) -> None:
        """The job is requeued (controller lock held): what its earlier attempt's stage-out left (settled or
        cancelled outputs, its end recorded) would have kept the new attempt's outputs from being staged out, and
        the job in STAGE_OUT for good. A copy of the earlier attempt still stopping publishes and settles nothing."""
        with self._settled:
            names = self.states.pop(job_id, {})
            for name, state in names.items():
                self._sent(job_id, name)
                if state == "staging":
                    self.copying[name] -= 1
                if self.lost.get(name, "").startswith(f"job {job_id}'s "):
                    del self.lost[name]
            self.cancelled.pop(job_id, None)
            self.owners.pop(job_id, None)
            self.concluded.discard(job_id)
            self._attempts.pop(job_id, None)
            self._settled.notify_all()

    def recorded(self, controller: Any, job_id: int, told: dict[str, str], conclude: bool) -> None:
        """After a restart: the outputs of a job that settled before it (so one that failed still fails the job);
        ``conclude``: all of them did, but the job was left in STAGE_OUT."""
        with self._guard:
            self.states[job_id] = {**told, **self.states.get(job_id, {})}
        if conclude:
            with controller.lock, controller.store.engine.begin() as conn:
                self._conclude(controller, conn, job_id)

    def handed(self, job_id: int) -> bool:
        """Whether this server already took the job's outputs in hand (staging or settled)."""
        with self._guard:
            return job_id in self.states

    def writers(self, names: tuple[str, ...] | list[str]) -> dict[str, list[tuple[int, str]]]:
        """(job, user) of the ended jobs staging each of ``names`` out now: a job submitted to read one waits for
        its writer with an implicit afterok, as on one still running (``hal.controller.admission.admit_data``).
        Called under the controller's lock at each submission that reads datasets: only the names in flight are
        looked at, through ``sending`` (review: every job ever staged out was scanned)."""
        found: dict[str, list[tuple[int, str]]] = {}
        with self._guard:
            for name in [n for n in dict.fromkeys(names) if self.copying[n] > 0]:
                jobs = self.sending.get(name, set())
                jobs -= {j for j in jobs if self.states.get(j, {}).get(name) != "staging"}  # settled, requeued
                for job_id in sorted(jobs - self.cancelled.keys()):
                    found.setdefault(name, []).append((job_id, self.owners.get(job_id, "")))
        return found

    def _sent(self, job_id: int, name: str) -> None:
        """The job no longer stages ``name`` out (``self._guard`` held): out of ``sending``."""
        jobs = self.sending.get(name)
        if jobs is not None:
            jobs.discard(job_id)
            if not jobs:
                del self.sending[name]

    def staging_out(self) -> dict[int, str]:
        """The ended jobs in STAGE_OUT now, with their users (`hal queue`'s summary line counts both)."""
        with self._guard:
            done = self.concluded | self.cancelled.keys()
            return {j: self.owners.get(j, "") for j in self.states if j not in done}

    def in_flight(self, names: tuple[str, ...] | list[str]) -> set[str]:
        """Which of ``names`` some ended job is still staging out (a later job may be waiting to read them)."""
        with self._guard:
            return {n for n in names if self.copying[n] > 0}

    def wait_settled(
        self, names: tuple[str, ...] | list[str], timeout: float | None = None, stop: Callable[[], bool] | None = None
    ) -> bool:
        """Block until none of ``names`` is being staged out; False on timeout or once ``stop()`` says so
        (looked at every second: the job waiting was cancelled)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._settled:
            while any(self.copying[n] > 0 for n in names) and not self.stager.closing.is_set():
                if stop is not None and stop():
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._settled.wait(1.0 if left is None else min(left, 1.0))
        return True

    def _settle(
        self, controller: Any, job_id: int, name: str, node: str, state: str, detail: str = "", token: object = None
    ) -> None:
        with self._settled:
            if job_id in self.cancelled or self._stale(job_id, token):  # settled by the cancel, its end recorded
                return
            if self.states.setdefault(job_id, {}).get(name) == "staging":
                self.copying[name] -= 1
            self.states[job_id][name] = state
            self._sent(job_id, name)
            last = "staging" not in self.states[job_id].values()
            if state == "done":
                self.lost.pop(name, None)
            else:  # before the waiting readers wake: one that finds no dataset is told why
                self.lost[name] = f"job {job_id}'s stage-out of it {state}"
            self._settled.notify_all()
        if last:  # every output published (moved into the cache): the job's folder goes; a failed one stays
            failed = tuple(n for n, v in self.states[job_id].items() if v.startswith("failed"))
            try:  # a folder left behind is tidied by the next start; the job's end must be recorded still
                self.stager.close_job_dir(node, job_id, keep=failed)
                count_kept(self.stager, node, job_id)  # what it keeps takes room in the cache (hal.data.kept_room)
            except OSError:
                log.exception("job %s: could not remove its $HAL_DATA on %s", job_id, node)
        kept = self.stager.job_dir(node, job_id) / name
        if state.startswith("failed") and kept.exists() and not kept.is_symlink():  # a file or a folder
            detail = detail or f"kept at {kept}"
        if state != "done":
            log.warning("job %s: stage-out of %s %s", job_id, name, state)
        cause = f"{name}: {state}" + (f" ({detail})" if detail else "")
        try:
            with controller.lock, controller.store.engine.begin() as conn:
                controller.store.add_events(conn, [(job_id, controller.clock(), EVENT, cause)])
                if state != "done":  # the job ran to completion, but its output never arrived: its record says so
                    controller.store.update_job(conn, job_id, {"cause": f"stage-out of {cause}"})
                if last:
                    self._conclude(controller, conn, job_id)
        except Exception:  # the store may be closing with the server; its next start stages out what is unsettled
            log.exception("job %s: could not record the stage-out event", job_id)

    def _conclude(self, controller: Any, conn: Any, job_id: int) -> None:
        """Every output of the job settled (controller lock held): STAGE_OUT ends COMPLETED, or FAILED when one
        never arrived, and the jobs depending on it may go."""
        with self._guard:
            if job_id in self.concluded:
                log.warning("job %s: its outputs settled again after it ended; its end stays as recorded", job_id)
                return
            self.concluded.add(job_id)
            failed = sorted(n for n, v in self.states.get(job_id, {}).items() if v != "done")
        state = "FAILED" if failed else "COMPLETED"
        cause = f"stage-out of {', '.join(failed)} failed" if failed else "completed; outputs staged out"
        controller.store.update_job(conn, job_id, {"state": state}, (job_id, controller.clock(), state, cause))
        controller.sched.remember(job_id, not failed)
        controller.ended_total[state] += 1
        controller.observer.ended(state)
        controller.wake.set()

    def state_of(self, job_id: int) -> dict[str, str]:
        with self._guard:
            return dict(self.states.get(job_id, {}))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued stage-out settled (tests, shutdown); True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pending:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def shutdown(self) -> None:
        """Stop: copies under way stop within a chunk, queued ones are dropped; both settle nowhere, so the next
        start's catch-up (``LiveStaging.resume``) stages them out."""
        self.stager.closing.set()
        with self._settled:
            self._settled.notify_all()  # a stage-in waiting for one of these outputs gives up too
        self._pool.shutdown(wait=True, cancel_futures=True)

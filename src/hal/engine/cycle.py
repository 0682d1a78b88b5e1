"""The scheduler's state between cycles and one cycle: release, promote, order, start, backfill."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

from hal.engine.accrual import accrue, settle
from hal.engine.api import Context, Estimate, RuntimePredictor
from hal.engine.backfill import ConservativeMemo, EasyMemo, conservative_pass, easy_pass
from hal.engine.capacity import Alloc, Book
from hal.engine.fairshare import UsageLedger, decayed_usage
from hal.engine.plan import Placement, Plan
from hal.engine.plugins.topology_span import bind_capacity
from hal.engine.profile import Profile
from hal.engine.promote import hold_reason, promote
from hal.engine.queue import PendingQueue, Waiting
from hal.engine.request import request_of
from hal.engine.sharing import know_owners
from hal.engine.tiers import use_tiers
from hal.engine.time_min import with_limit
from hal.engine.twin import twin_of
from hal.model.job import JobSpec, PendingReason
from hal.model.resources import ResourceSpace


@dataclass(slots=True)
class Active:
    """A running job as the planner sees it: holding ``alloc`` until ``predicted_end``."""

    item: Waiting
    alloc: Alloc
    start: float
    predicted_end: float
    seq: int
    cpus: int = 0  # processors the allocation holds (lets the shadow search skip hopeless placements)
    released: bool = False
    charged_to: float = 0.0  # fair share charged it up to here (engine/accrual.py); its start at first
    span: float = 0.0  # the seconds charged so far, decayed to ``charged_to`` as the ledger decays them


class Rejected(ValueError):
    """A submission the machine can never run, with the limit it breaks."""


class Scheduler:
    """Incremental engine state; ``cycle(now)`` returns a Plan and books its starts.

    The shell (simulator or controller) owns the clock. Contract: when ``cycle(now)`` runs, every running
    job whose predicted end is <= now ends at this instant (the shell extends overrunning predictions
    first), so its resources count as free, exactly as in the reference simulators.
    """

    def __init__(self, book: Book, space: ResourceSpace, profile: Profile, predictor: RuntimePredictor) -> None:
        self.book = book
        self.space = space
        self.profile = profile
        self.predictor = predictor
        self.queue = PendingQueue(profile.make_order())
        self.held: dict[int, Waiting] = {}
        self.running: dict[int, Active] = {}
        self.ends: list[tuple[float, int, int]] = []
        self.outcomes: dict[int, bool | None] = {}  # None: ended, outcome unsettled (outputs being staged out)
        self.ended_at: dict[int, float] = {}  # when each settled (engine/promote.py: when dependencies were met)
        self.started: dict[int, float] = {}  # when each ended job had started (after:JOB+MIN counts from there)
        self.withdrawn: set[int] = set()  # cancelled before they started: the next cycle's moment is their start
        self.known: set[int] = set()
        self.ledger = UsageLedger(profile.half_life)  # per user, charged as running jobs accrue usage
        self.accounts: UsageLedger | None = None  # per account, when the shell keeps one (the live controller's)
        self.charge_due = -math.inf  # the next cycle at or after this charges the running jobs' usage
        self.ctx = Context(total_cpus=max(1, book.total()[0]))
        use_tiers(self.ctx, book, self.queue)  # partitions' PriorityTier: the partition factor; tiers first if several
        self.reasons: dict[int, PendingReason] = {}
        self.satisfied: dict[int, float] = {}  # dependencies found met, and when (Slurm's EligibleTime)
        self.head_id: int | None = None
        self.reservations: dict[int, float] = {}
        self.slots: dict[int, tuple[float, float, Alloc]] = {}  # conservative: (start, span, alloc) per job
        # ``epoch`` moves whenever resources are freed, a prediction changes or a job leaves the queue other
        # than by starting: a pass's conclusions about the jobs it rejected hold as long as it stands still.
        self.epoch = 0
        self.easy_memo: EasyMemo | None = None
        self.cons_memo: ConservativeMemo | None = None
        self._families: dict[object, int] = {}
        self._shapes: dict[tuple[int, int], int] = {}
        self._seq = 0
        self.owners_known = False  # running jobs' users told to a sharing book (engine/sharing.py)

    # ---- inputs from the shell -------------------------------------------------------------------
    def submit(self, spec: JobSpec, now: float, estimate: Estimate | None = None) -> Waiting:
        """Queue (or hold) a job; ``estimate`` stands in for the predictor's (a forecast's stand-in jobs)."""
        if spec.job_id in self.known:
            raise Rejected(f"job {spec.job_id} was already submitted")
        req = request_of(spec, self.space)
        bind_capacity(self.book)  # the block rule sizes a job without -N by its tasks (a selector set late)
        why = self.book.impossible(req)
        if why is not None:
            raise Rejected(f"job {spec.job_id}: {why}")
        if req.share and not self.owners_known:  # the book has just turned to sharing: who runs on it
            self.owners_known = know_owners(self.book, self.running.values())
        for dep in spec.dependencies:
            if dep.job_id not in self.known:
                raise Rejected(f"job {spec.job_id}: dependency on unknown job {dep.job_id}")
        est = self.predictor.predict(spec) if estimate is None else estimate
        point = est.point if spec.requested is None else min(est.point, spec.requested)
        self._seq += 1
        item = Waiting(spec, req, point, max(est.upper, point), self._seq, req.total[0])
        self._memo_keys(item)
        self.known.add(spec.job_id)
        reason = hold_reason(self, item, now)
        if reason is not None:
            self.held[spec.job_id] = item
            self.reasons[spec.job_id] = reason  # shown at once, not only after the next cycle
        else:  # met dependencies count from its request's start (a restart or update: when they were first met)
            if spec.dependencies:
                self.satisfied[spec.job_id] = now
            self.queue.add(item)
        return item

    def finish(self, job_id: int, now: float, ok: bool | None = True, ran: bool = True, learn: bool = True) -> None:
        """A running job ended (any terminal state); frees it and teaches the predictor. ``ran=False``: its
        work never began (its inputs never arrived), so there is no runtime to learn or to charge. ``learn=False``:
        it was cut short (cancelled, requeued, preempted), so its elapsed time is charged but not learned: it is
        only a lower bound. ``ok=None``: its outcome is settled later (``remember``); dependants wait until then."""
        act = self.running.pop(job_id)
        if not act.released:
            self.book.release(act.alloc)
            self._drop_end(act)
            self.epoch += 1
        self.outcomes[job_id] = ok
        self.ended_at[job_id] = now
        self.started[job_id] = act.start
        runtime = now - act.start
        spec = act.item.spec
        settle(self, act, now, ran)  # the rest of its usage, or a refund of what it was charged
        if not (ran and learn):
            forget = getattr(self.predictor, "forget", None)
            if forget is not None:
                forget(job_id)
            return
        self.predictor.observe(spec, runtime, now)

    def extend(self, job_id: int, predicted_end: float) -> None:
        """A running job outlived its prediction; the planner now expects it until ``predicted_end``.

        Conservative backfilling's held slots assumed the old end: compressing them (each job to its earliest slot
        given all the others') would now push an earlier job behind a later one's slot, which the old end had made
        room for (QA: the head moved behind a 12-hour job). They are dropped, so the next pass books every job
        afresh in queue order."""
        act = self.running[job_id]
        self.epoch += 1
        self.slots = {}
        if act.released:
            self.book.take(act.alloc)
            act.released = False
        else:
            self._drop_end(act)
        act.predicted_end = predicted_end
        bisect.insort(self.ends, (predicted_end, act.seq, job_id))

    def hold(self, job_id: int, held: bool, now: float) -> bool:
        """Hold a waiting job (it never starts) or release it; False when it is not waiting here."""
        item = self.held.get(job_id)
        if item is None:
            item = self.queue.get(job_id)
            if item is None:
                return False
            self.queue.remove({job_id})
        item = replace(item, spec=replace(item.spec, held=held), eligible=item.eligible if held else now)
        self.held[job_id] = item
        self.epoch += 1
        reason = hold_reason(self, item, now)
        if reason is None:
            self.reasons.pop(job_id, None)
        else:
            self.reasons[job_id] = reason
        return True

    def withdraw(self, job_id: int) -> None:
        """Take a waiting job out as if never submitted (its array's %limit holds it back outside the engine);
        it may be submitted again later."""
        if self.held.pop(job_id, None) is None:
            self.queue.remove({job_id})
        self.known.discard(job_id)
        self.reasons.pop(job_id, None)
        self.epoch += 1

    def cancel(self, job_id: int) -> None:
        """Withdraw a pending or held job; running jobs end through ``finish``."""
        if self.held.pop(job_id, None) is None:
            self.queue.remove({job_id})
            self.epoch += 1
        self.outcomes[job_id] = False
        self.ended_at.pop(job_id, None)  # withdrawn now: its dependants' cycle is when
        self.withdrawn.add(job_id)  # after:JOB+MIN counts from a cancellation (Slurm)
        self.reasons.pop(job_id, None)
        forget = getattr(self.predictor, "forget", None)  # a predictor that counts outstanding jobs stops counting it
        if forget is not None:
            forget(job_id)

    # ---- restart support (the live controller rebuilds its state from the database) -------------
    def adopt(self, spec: JobSpec, alloc: Alloc, start: float, predicted_end: float) -> Active:
        """Re-book a job that was already running before this Scheduler existed (``alloc`` is taken); none of its
        usage is charged here yet, so the next charge (the first cycle) charges it all since ``start``."""
        if spec.job_id in self.known:
            raise Rejected(f"job {spec.job_id} was already submitted")
        req = request_of(spec, self.space)
        if not self.owners_known:  # restored() turned the book for this job: the jobs adopted before it are known
            self.owners_known = know_owners(self.book, self.running.values())
        est = self.predictor.predict(spec)
        self._seq += 1
        item = Waiting(
            spec, req, max(predicted_end - start, 0.0), max(est.upper, predicted_end - start), self._seq, req.total[0]
        )
        self.book.take(alloc)
        self._seq += 1
        act = Active(item, alloc, start, predicted_end, self._seq, self.book.cpus_of(alloc), charged_to=start)
        self.running[spec.job_id] = act
        self.epoch += 1
        self.known.add(spec.job_id)
        bisect.insort(self.ends, (predicted_end, act.seq, spec.job_id))
        return act

    def remember(self, job_id: int, ok: bool | None) -> None:
        """A job's outcome, once known: it ended before this Scheduler existed, or its outputs settled."""
        self.known.add(job_id)
        self.outcomes[job_id] = ok
        self.ended_at.pop(job_id, None)  # settled now, or at a moment not told: the next cycle's

    def forget(self, job_id: int) -> None:
        """Drop an ended job's record so it can be submitted again as a new attempt (requeue)."""
        self.known.discard(job_id)
        self.outcomes.pop(job_id, None)
        self.ended_at.pop(job_id, None)
        self.started.pop(job_id, None)
        self.withdrawn.discard(job_id)
        self.reasons.pop(job_id, None)

    # ---- what-if copies (start forecasts) ---------------------------------------------------------
    def clone(self, predictor: RuntimePredictor | None = None, history: bool = True) -> Scheduler:
        """An independent copy of the state (engine/twin.py): what-if runs on it never reach ``self``."""
        return twin_of(self, predictor, history)

    # ---- one cycle -------------------------------------------------------------------------------
    def cycle(self, now: float) -> Plan:
        self.book.now = now  # every shell (controller, simulators, forecasts) plans time-relaxed placements alike
        bind_capacity(self.book)
        self._release_due(now)
        if now >= self.charge_due:
            accrue(self, now)
        if self.withdrawn:  # cancelled before they started, since the last cycle: after:JOB+MIN counts from now
            self.started.update(dict.fromkeys(self.withdrawn, now))
            self.withdrawn.clear()
        if self.held:
            promote(self, now)
        plan = Plan(now)
        queue = self.queue
        if not len(queue):
            queue.forget_fresh()
            self.head_id = None
            return plan
        backfill = self.profile.backfill
        # Conservative starts jobs only in their reserved slots: a head started just because it fits now
        # could take a slot promised to a later job.
        greedy = backfill != "conservative"
        if queue.order.static:
            if greedy:
                self._start_heads_static(plan, now)
            if backfill == "easy" and len(queue) >= 2:
                easy_pass(self, plan, now, None)
            elif backfill == "conservative":
                conservative_pass(self, plan, now, None)
            head = queue.head()
        else:
            self._refresh_ctx(now)
            waiting = queue.ordered(self.ctx)
            if greedy:
                waiting = self._start_heads(plan, now, waiting)
            if waiting and backfill == "easy":
                easy_pass(self, plan, now, waiting)
            elif waiting and backfill == "conservative":
                conservative_pass(self, plan, now, waiting)
            running = self.running
            head = next((w for w in waiting if w.spec.job_id not in running), None)
        queue.forget_fresh()
        self.head_id = head.spec.job_id if head is not None else None
        return plan

    def start(
        self, plan: Plan, item: Waiting, alloc: Alloc, now: float, backfilled: bool, limit: float | None = None
    ) -> None:
        """Book a start decided by a pass (the alloc is already taken from the book); ``limit``: the limit backfill
        lowered it to (--time-min, engine/time_min.py), which the shell applies."""
        if limit is not None:
            item = with_limit(item, limit)
        self._seq += 1
        end = now + item.estimate
        act = Active(item, alloc, now, end, self._seq, self.book.cpus_of(alloc), charged_to=now)
        jid = item.spec.job_id
        self.running[jid] = act
        ends = self.ends
        entry = (end, self._seq, jid)
        if not ends or entry > ends[-1]:
            ends.append(entry)
        else:
            bisect.insort(ends, entry)
        plan.starts.append(Placement(jid, self.book.nodes_of(alloc), now, end, backfilled, limit))
        self.reasons.pop(jid, None)
        self.reservations.pop(jid, None)

    # ---- helpers ---------------------------------------------------------------------------------
    def _start_heads_static(self, plan: Plan, now: float) -> None:
        book, queue = self.book, self.queue
        while True:
            head = queue.head()
            if head is None:
                return
            alloc = book.allocate(head.req)
            if alloc is None:
                return
            queue.pop_head()
            self.start(plan, head, alloc, now, False)
            self.easy_memo = None  # a new running job can move the shadow of whoever is head next

    def _start_heads(self, plan: Plan, now: float, waiting: list[Waiting]) -> list[Waiting]:
        started: set[int] = set()
        k = 0
        for item in waiting:
            alloc = self.book.allocate(item.req)
            if alloc is None:
                break
            self.start(plan, item, alloc, now, False)
            started.add(item.spec.job_id)
            k += 1
        if started:
            self.queue.remove(started)
            self.easy_memo = None  # a new running job can move the shadow of whoever is head next
        return waiting[k:]

    def _release_due(self, now: float) -> None:
        ends = self.ends
        while ends and ends[0][0] <= now:
            _, _, jid = ends.pop(0)
            act = self.running[jid]
            act.released = True
            self.book.release(act.alloc)
            self.epoch += 1

    def _memo_keys(self, item: Waiting) -> None:
        """Intern the book's memo keys to small ints, so a pass's memo lookups hash an int."""
        family, size = self.book.memo_key(item.req)
        fid = item.family = self._families.setdefault(family, len(self._families))
        item.size = size
        item.shape = self._shapes.setdefault((fid, size), len(self._shapes))

    def _drop_end(self, act: Active) -> None:
        key = (act.predicted_end, act.seq, act.item.spec.job_id)
        i = bisect.bisect_left(self.ends, key)
        if i < len(self.ends) and self.ends[i] == key:
            del self.ends[i]

    def _refresh_ctx(self, now: float) -> None:
        self.ctx.now = now
        usage = decayed_usage(self.ledger, now)
        self.ctx.usage = usage
        self.ctx.total_usage = sum(usage.values())

    def positions(self) -> dict[int, int]:
        """Each queued job's place in the current order, 1 = the next to start (squeue's priority order)."""
        order = self.queue.ordered(self.ctx)
        return {w.spec.job_id: i for i, w in enumerate(order, 1) if w.spec.job_id not in self.running}

    def reason_of(self, job_id: int) -> PendingReason:
        """Why a pending job waits, as Slurm would show it."""
        if job_id in self.reasons:
            return self.reasons[job_id]
        book = self.book  # topology-aware nodes, or --exclusive=topo blocks: maybe held by its request
        if getattr(book, "select", None) is not None or getattr(book, "sharing", False):
            from hal.engine.plugins.placement_explain import topology_reason  # imports this module

            why = topology_reason(self, job_id)
            if why is not None:
                return PendingReason(why)
        if job_id == self.head_id:
            return PendingReason.RESOURCES
        return PendingReason.PRIORITY

"""Prometheus metrics: queue length by state and partition, running jobs, allocated vs total resources,
cycle durations, submissions and completions, and the runtime predictor's state and fits."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hal.api.views import cache_view, nodes_view, partition_label
from hal.controller.core import Controller
from hal.controller.learning import fit_log, planning_with
from hal.engine.predict.gbm import GbmPredictor

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class StateCollector(Collector):
    """Reads the controller's memory at scrape time, so gauges are never stale."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ctl = self.ctl
        with ctl.lock:
            stopping = ctl.cancelling | set(ctl.requeueing)  # squeue's CG: a flag beside RUNNING (reasons.py)
            counts = Tally(
                ("COMPLETING" if lv.state == "RUNNING" and jid in stopping else lv.state, partition_label(lv.partition))
                for jid, lv in ctl.live.items()
            )
            for part in ctl.table.partition_masks:  # 0, not no data, for an empty queue (alert rules read it)
                for state in ("PENDING", "RUNNING"):
                    counts.setdefault((state, partition_label(part)), 0)
            cap = ctl.table.capacity.sum(axis=0)
            free = ctl.book.free.sum(axis=0)
            names = ctl.table.space.names
        queue = GaugeMetricFamily(
            "hal_queue_jobs",
            "Jobs not yet ended, by state and partition (a list sorted)",
            labels=["state", "partition"],
        )
        for (state, part), n in sorted(counts.items()):
            queue.add_metric([state, part], n)
        yield queue
        running = sum(n for (state, _), n in counts.items() if state == "RUNNING")
        yield GaugeMetricFamily("hal_running_jobs", "Jobs running now", value=running)
        total = GaugeMetricFamily("hal_resources_total", "Resources of all nodes", labels=["resource"])
        alloc = GaugeMetricFamily("hal_resources_allocated", "Resources allocated to running jobs", labels=["resource"])
        for i, name in enumerate(names):
            total.add_metric([name], float(cap[i]))
            alloc.add_metric([name], float(cap[i] - free[i]))
        yield total
        yield alloc
        states = GaugeMetricFamily("hal_nodes", "Nodes by state, as hal nodes shows them", labels=["state"])
        for state, n in sorted(Tally(node["state"] for node in nodes_view(ctl)["nodes"]).items()):
            states.add_metric([state], n)
        yield states  # drained nodes (drain, drng) to alert on, and what is in service
        if ctl.staging is not None:  # the data plane's node caches
            cache = GaugeMetricFamily("hal_cache_bytes", "Node cache bytes: used, held, size", labels=["node", "kind"])
            for node in ctl.staging.stager.caches:
                view = cache_view(ctl, node)  # the figures hal nodes --long shows
                for kind in ("used", "held", "size"):
                    cache.add_metric([node, kind], float(view["cache_bytes" if kind == "used" else f"cache_{kind}"]))
            yield cache


class PredictorCollector(Collector):
    """The runtime predictor's state at scrape time: what plans now, what gbm has learned, how its fits went."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl

    def collect(self) -> Iterator[Metric]:
        pred = self.ctl.sched.predictor
        planning = GaugeMetricFamily(
            "hal_predictor_planning", "The runtime predictor planning now (1): gbm's model, or last2 until it has one",
            labels=["predictor"],
        )  # fmt: skip
        with self.ctl.lock:  # a finished background fit is installed: not while the scheduler predicts
            planning.add_metric([planning_with(pred)], 1.0)
        yield planning
        if isinstance(pred, GbmPredictor):
            yield GaugeMetricFamily(
                "hal_predictor_completions_learned", "Completed runs the gbm predictor has learned", pred.completions
            )
        fits = fit_log(pred)
        if fits is None:
            return
        yield CounterMetricFamily("hal_predictor_fits", "Runtime model fits that succeeded", fits.fits)
        yield CounterMetricFamily("hal_predictor_fit_failures", "Runtime model fits that failed", fits.failures)
        yield GaugeMetricFamily(
            "hal_predictor_last_fit_timestamp_seconds", "When the last runtime model fit succeeded (0: none yet)",
            fits.last_fit,
        )  # fmt: skip


class Metrics:
    """The controller's observer; also renders the text exposition for GET /metrics."""

    def __init__(self, ctl: Controller) -> None:
        self.registry = CollectorRegistry()
        self.cycle_seconds = Histogram(
            "hal_cycle_duration_seconds", "Time of one scheduling cycle", buckets=BUCKETS, registry=self.registry
        )
        self.submissions = Counter(
            "hal_jobs_submitted", "Jobs accepted (array tasks count one each)", registry=self.registry
        )
        self.completions = Counter(
            "hal_jobs_ended", "Jobs that ended, by final state", ["state"], registry=self.registry
        )
        self.registry.register(StateCollector(ctl))
        self.registry.register(PredictorCollector(ctl))

    def cycle(self, seconds: float) -> None:
        self.cycle_seconds.observe(seconds)

    def submitted(self, n: int) -> None:
        self.submissions.inc(n)

    def ended(self, state: str) -> None:
        self.completions.labels(state).inc()

    def render(self, admin: bool = True) -> bytes:
        """The exposition; for a user's token without the per-session HTC series, which name every user's sessions
        (QA: GET /v1/sessions hides other users' sessions, as Slurm's PrivateData hides their jobs)."""
        text = generate_latest(self.registry)
        if admin:
            return text
        return b"".join(line for line in text.splitlines(keepends=True) if PRIVATE not in line)


PRIVATE = b"hal_htc_session_"  # series labelled by session and user (hal/htc/bridge.py)

"""The tables `hal simulate` and `hal compare` print: the schedule's figures per run, and the topology spans."""

from __future__ import annotations

import math

from rich.table import Table

from hal.sim.metrics import Summary
from hal.sim.topo_metrics import TopoSummary

COLUMNS = (
    ("jobs", "jobs", "{:,}"),
    ("avg_wait", "avg wait s", "{:,.0f}"),
    ("p50_wait", "p50 wait", "{:,.0f}"),
    ("p95_wait", "p95 wait", "{:,.0f}"),
    ("avg_bsld", "avg bsld", "{:,.2f}"),
    ("max_bsld", "max bsld", "{:,.2f}"),  # as avg bsld: a max of 1.49 read as 1
    ("utilization", "util", "{:.3f}"),
    ("makespan", "makespan s", "{:,.0f}"),
    ("backfilled", "backfilled", "{:,}"),
    ("wall_seconds", "wall s", "{:.2f}"),
    ("jobs_per_second", "jobs/s", "{:,.0f}"),
)


HELD = ("allocated_utilization", "alloc util", "{:.3f}")


def summary_table(rows: list[tuple[str, Summary]], title: str) -> Table:
    """util is the trace's work over capacity x makespan in every mode; where the machine was held otherwise
    (whole nodes, stretched or killed runs), ``alloc util`` beside it says how full it was held."""
    held = any(abs(s.allocated_utilization - s.utilization) > 5e-4 for _, s in rows)
    columns = [*COLUMNS[:7], HELD, *COLUMNS[7:]] if held else list(COLUMNS)
    table = Table(title=title)
    table.add_column("policy")
    for _, header, _ in columns:
        table.add_column(header, justify="right")
    for label, summary in rows:
        values = summary.as_dict()
        table.add_row(label, *(_cell(fmt, values[name]) for name, _, fmt in columns))
    if held:
        table.caption = (
            "util: the trace's work (its processors x its run time) / (capacity x makespan); alloc util: CPUs or GPUs "
            "allocated x simulated run (whole nodes, stretch and killed runs included) / (capacity x makespan)"
        )
    return table


def _cell(fmt: str, value: float) -> str:
    """A figure, or - where it has none (nan: no job started)."""
    return "-" if isinstance(value, float) and not math.isfinite(value) else fmt.format(value)


def topology_table(t: TopoSummary, policy: str = "") -> Table:
    """The multi-node jobs' spans over the tree and the leaf fragmentation, beside the schedule's figures."""
    table = Table(title="topology: multi-node jobs" + (f" ({policy})" if policy else ""))
    cols = ("jobs", "in fewest leaves", "in one leaf", "avg leaves", "avg level", "leaf fragmentation", "busy util")
    for col in cols:
        table.add_column(col, justify="right")
    spans: tuple[str, ...] = (
        f"{t.fewest_leaf_share:.1%}",
        f"{t.one_domain_share:.1%}",
        f"{t.avg_leaves:.2f}",
        f"{t.avg_level:.2f}",
    )
    if t.multi_node == 0:  # no share or average of no jobs, as the JSON's null (QA: 100.0%, and 0.00 leaves)
        spans = ("-",) * len(spans)
    table.add_row(f"{t.multi_node:,}", *spans, f"{t.avg_fragmentation:.2f}", f"{t.useful_utilization:.3f}")
    table.caption = (
        "leaves: lowest domains of the tree (leaf switches, or blocks); level: 1 = one leaf, 2 = the level above, ...; "
        "fragmentation: share of free nodes in partly used leaves; busy util (JSON: topology.useful_utilization): "
        "trace run x the nodes each job held, a node shared by jobs counted by its CPUs each holds (GPUs with "
        "--gpus) / (nodes x makespan)"
    )
    return table

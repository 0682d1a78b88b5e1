"""`hal simulate`'s checks of its options and of the cluster file, before any trace is read: a bad value is
refused with the option's own name and the range it allows, once."""

from __future__ import annotations

import math
from pathlib import Path

from rich.markup import escape

from hal.cli.common import err
from hal.sim.stretch import StretchModel, multipliers_given, parse_stretch

WHOLE_FROM_ONE = ("depth",)  # jobs planned: 1, 2, ...
ZERO_OR_ONE = ("nodes",)


def check_reserve(text: str, whole_nodes: bool) -> None:
    """--topology-reserve KEY=VALUE,...: a key given twice, and depth and nodes, refused in the words of the range
    they allow whatever the value (depth=0 said 'a whole number >= 1' but depth=-1 said '>= 0', QA); the rest is
    checked where the reservation is built. ValueError."""
    if not text:
        return
    parts = [part.partition("=") for part in text.split(",") if part.strip()]
    keys = [key.strip() for key, _, _ in parts]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:  # wait=1,wait=2 kept one of them in silence
        raise ValueError(f"--topology-reserve {text!r} gives {', '.join(twice)} more than once")
    if not whole_nodes:  # it holds whole-node jobs; trace jobs are tasks without it
        raise ValueError("--topology-reserve holds multi-node jobs for their fewest leaves: it needs --whole-nodes")
    for key, value in ((k.strip(), v.strip()) for k, _, v in parts):
        try:
            number = float(value)
        except ValueError:
            continue  # 'is not a number', where it is parsed
        if key in WHOLE_FROM_ONE and not (math.isfinite(number) and number == int(number) and number >= 1):
            raise ValueError(f"--topology-reserve {key}={value}: {key} is a whole number >= 1 (jobs planned)")
        if key in ZERO_OR_ONE and number not in (0.0, 1.0):
            raise ValueError(f"--topology-reserve {key}={value}: {key} is 0 or 1")


def stretch_of(stretch: bool, factors: str | None) -> tuple[str | None, StretchModel | None]:
    """The stretch asked for (its label spec and model; None, None without one), the factors checked now: nan
    and inf are refused (QA: nan lost a job without a count, inf started one at t=inf). ValueError."""
    spec = factors if factors is not None else ("default" if stretch else None)
    if spec is None:
        return None, None
    model = parse_stretch(spec)
    if factors is not None and multipliers_given(factors):  # heavy=1.2 read as x1.2 ran jobs x2.2 (QA)
        err.print(
            f"[yellow]note:[/] --stretch-factors {escape(factors)}: a factor is the share added per level crossed "
            "(1.2 runs a job 120% longer, x2.2); 0.2 is x1.2"
        )
    return spec, model


def check_stretch_tree(model: StretchModel | None, cluster: Path | None) -> None:
    """A stretch needs a tree of more than one leaf to span, a fact of the cluster file: refused before the trace
    is read, in the words the run would use (it came after the trace's skips). ValueError."""
    if model is None or cluster is None:
        return
    from hal.engine.plugins.topology import TopoIndex
    from hal.sim.runner import NO_TREE_FOR_STRETCH, load_cluster

    topology = load_cluster(cluster).topology
    if topology is None or len(set(topology.paths)) <= 1:
        raise ValueError(NO_TREE_FOR_STRETCH)
    check_stretch_levels(model, TopoIndex(topology).names, cluster.name)


def check_stretch_levels(model: StretchModel, names: list[str], cluster: str) -> None:
    """One factor per level a job can cross above its leaf (``names``: the tree's levels, node and leaf first):
    more could never apply, so they are refused naming the levels, as a factor out of range is (QA: seven on a
    tree of three ran without a word). ValueError."""
    above = names[2:]
    extra = [(k, fs) for k, fs in (("heavy", model.heavy), ("light", model.light)) if len(fs) > len(above)]
    if extra:
        given = ", ".join(f"{k}={'/'.join(f'{f:g}' for f in fs)} ({len(fs)} factors)" for k, fs in extra)
        raise ValueError(
            f"--stretch-factors {given}: the tree of {cluster} has {len(above)} level(s) above its leaves to cross "
            f"({', '.join(above)}), one factor each; give at most {len(above)} (the last repeats higher up)"
        )


def note_data_plane(cluster: Path | None) -> None:
    """A cluster file's [data] table, checked as hal cluster show and hal server check it (an invalid one was
    ignored in silence), and said to be left out: the simulator places by CPUs, GPUs and the tree only (the
    data-locality benchmark simulates stage-ins). ValueError."""
    if cluster is None:
        return
    from hal.data.live_config import check_cluster_data, data_table
    from hal.sim.runner import load_cluster

    machine = load_cluster(cluster)  # first: its one-line error naming the file (a missing one was a traceback, QA)
    table = data_table(cluster)
    if table is None:
        return
    check_cluster_data(machine, table)  # what the server refuses (its warnings: of data not simulated)
    named = escape(f"{cluster.name}'s [data]")  # [data] is no markup
    err.print(
        f"[yellow]note:[/] {named} table is not simulated: hal simulate places jobs by "
        "CPUs, GPUs and the tree, without stage-ins or caches (benchmarks/data_locality.py simulates those)"
    )


def check_model_estimate(estimate: str, source: str) -> None:
    """--model starts gbm from a file: refused unless the run's estimate is gbm or gbm-regress, once a profile's own
    estimate has applied (QA: a profile tuned on gbm was refused against --estimate's default). ``source``: where
    the estimate came from, ``--estimate`` (typed), ``default`` or a profile's name. ValueError."""
    from hal.engine.predict.registry import GBM_NAMES

    if estimate in GBM_NAMES:
        return
    where = {"--estimate": f"--estimate {estimate}", "default": f"{estimate} (--estimate's default)"}.get(
        source, f"{estimate}, the estimate {source} was tuned on"
    )
    raise ValueError(f"--model needs --estimate gbm or gbm-regress; this run's is {where}")

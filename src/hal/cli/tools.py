"""`hal cluster generate|show` and `hal trace generate|check`: make and inspect inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hal.atomic_write import OutputError, write_text
from hal.cli.common import err, fail, new_file, out
from hal.cli.trace_check import (
    first_ones,
    header_size,
    header_warnings,
    list_all,
    no_jobs,
    unreadable,
)
from hal.clusterfile import MEM_PER_CPU_GB, ClusterFileError, load_cluster, parse_mem_mb, uniform_toml
from hal.executors.hostlist import compress
from hal.model.cluster import Cluster
from hal.sim.generate import WorkloadShape, generate
from hal.sim.swf import MAX_VALUE, TraceError, read_swf, write_swf
from hal.sim.trace_notes import data_notes, order_notes

cluster_app = typer.Typer(help="Cluster description files (TOML).", no_args_is_help=True)
trace_app = typer.Typer(help="Workload traces (SWF).", no_args_is_help=True)


@cluster_app.command("generate")
def cluster_generate(
    nodes: Annotated[int, typer.Option(min=1, help="number of identical nodes")] = 16,
    cpus: Annotated[int, typer.Option(min=1, help="cpus per node")] = 32,
    mem: Annotated[
        str | None,
        typer.Option(help=f"memory per node, e.g. 192G  [default: {MEM_PER_CPU_GB}G per cpu]"),
    ] = None,
    gpus: Annotated[int, typer.Option(min=0, help="gpus per node")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite the --output file if it exists")] = False,
) -> None:
    """Write a uniform cluster file."""
    if mem is not None:
        try:
            parse_mem_mb(mem)  # refused now, not when the file it was written to is read
        except ClusterFileError as exc:
            raise fail(f"--mem: {exc}") from None
    new_file(output, force)
    text = uniform_toml(nodes, cpus, mem, gpus)
    if output is None:
        typer.echo(text, nl=False)
    else:
        try:
            write_text(output, text)  # whole or not at all: a full disk left a cut-off cluster file (QA)
        except OutputError as exc:
            raise fail(str(exc)) from None
        err.print(f"wrote {output} ({nodes} nodes of {cpus} CPUs)", markup=False, highlight=False)


@cluster_app.command("show")
def cluster_show(path: Path, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarize a cluster file: partitions and node groups."""
    from hal.data.live_config import check_cluster_data, data_table

    try:  # what the file names but the machine leaves out (topology.conf's unknown nodes) is said, not only logged
        cluster = load_cluster(path, warn=lambda m: err.print(f"[yellow]warning:[/] {escape(m)}"))
        data_plane = data_table(path)
        # as hal server checks it, its warnings too (QA: a cache_dir without {node}, a catalog in a cache passed here)
        said = check_cluster_data(cluster, data_plane) if data_plane is not None else []
    except (ClusterFileError, ValueError) as exc:
        raise fail(str(exc)) from exc
    for line in said:
        err.print(f"[yellow]warning:[/] {escape(line)}")
    total = cluster.total()
    if as_json:
        data = {
            "name": cluster.name,
            "nodes": len(cluster.nodes),
            "cpus": total.cpus,
            "mem_mb": total.mem_mb,
            "gpus": total.gpus,
            "partitions": {p.name: len(p.nodes) for p in cluster.partitions},
            "topology": _domains(cluster),
            "topology_outside": len(cluster.topology.outside) if cluster.topology is not None else 0,
        }
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"{cluster.name}: {len(cluster.nodes)} nodes, {total.cpus} cpus, {total.gpus} gpus")
    for col in ("PARTITION", "NODES", "DEFAULT", "MAX TIME"):
        table.add_column(col)
    for part in cluster.partitions:
        limit = "infinite" if part.max_time is None else f"{part.max_time:.0f}s"
        table.add_row(part.name, str(len(part.nodes)), "*" if part.default else "", limit)
    out.print(table)
    tree = " > ".join(f"{n} {level}{'' if level.endswith('s') else '(s)'}" for level, n in _domains(cluster).items())
    topo = cluster.topology
    if topo is not None and topo.outside:  # each its own fabric, not a switch of the tree
        alone = compress([cluster.nodes[i].name for i in sorted(topo.outside)])
        tree += f"; {len(topo.outside)} node(s) in no {topo.outside_of}: {alone}"
    out.print(f"topology: {tree or 'flat (no [topology] table)'}", markup=False)


def _domains(cluster: Cluster) -> dict[str, int]:
    """Domains per topology level, top first: what placement by the tree works with. Nodes in no switch or
    block are not counted: each is a domain of its own at every level, not a switch (QA: "3 tier1(s)"). An
    imported tree's switches are counted at their own level, not again where a shorter branch is padded."""
    from hal.topology_conf import tree_counts

    topo = cluster.topology
    if topo is None:
        return {}
    counts = tree_counts(topo)
    if counts is not None:
        return counts
    paths = [p for i, p in enumerate(topo.paths) if i not in topo.outside]
    return {level: len({p[: i + 1] for p in paths}) for i, level in enumerate(topo.levels)}


def _finite(value: float) -> float:
    """typer's min/max let nan through (every comparison with it is false): it made every submit time 0."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number")
    return value


MAX_JOBS = 10_000_000  # ~4 GB held (380 B a job); archive traces hold a few million. 10^11: MemoryError (QA)


@trace_app.command("generate")
def trace_generate(
    output: Path,
    jobs: Annotated[
        int, typer.Option(min=1, max=MAX_JOBS, help="jobs to write (each is held in memory while the trace is made)")
    ] = 2000,
    procs: Annotated[int, typer.Option(min=1, max=MAX_VALUE, help="machine size")] = 128,
    load: Annotated[float, typer.Option(min=0.05, max=3.0, callback=_finite, help="offered load")] = 0.7,
    users: Annotated[int, typer.Option(min=1)] = 40,
    seed: Annotated[int, typer.Option(min=0)] = 1,
    force: Annotated[bool, typer.Option("--force", help="overwrite OUTPUT if it exists")] = False,
) -> None:
    """Write a synthetic SWF trace (Poisson arrivals sized to a target load)."""
    new_file(output, force)
    try:
        records = generate(WorkloadShape(jobs=jobs, procs=procs, load=load, users=users, seed=seed))
    except MemoryError:  # below MAX_JOBS on a small machine: one line, not a traceback
        raise fail(f"not enough memory to make {jobs:,} jobs: give fewer --jobs") from None
    header = {
        "Computer": "HAL synthetic workload",
        "MaxNodes": str(procs),
        "MaxProcs": str(procs),
        "MaxJobs": str(jobs),
    }
    try:
        write_swf(output, records, header)
    except OutputError as exc:  # a full disk: one line, and no cut-off trace (QA)
        raise fail(str(exc)) from None
    out.print(f"wrote {len(records)} jobs to {output}")


def engine_rejections(workload: Any, opts: Any) -> list[str]:
    """The jobs the scheduler refuses on this cluster, placed as hal simulate places them there by default
    (on its tree, with topology placement): a job wider than a switch fabric or a block never fits."""
    import dataclasses

    from hal.cli.simulate import placement_topology_default
    from hal.engine.profile import Profile
    from hal.engine.request import request_of
    from hal.sim.runner import machine

    placement = "topology" if placement_topology_default(opts.cluster) else "firstfit"
    book, space, _ = machine(workload, dataclasses.replace(opts, profile=Profile(placement=placement)))
    out = []
    for job in workload.jobs:
        why = book.impossible(request_of(job, space))
        if why is not None:
            out.append(f"job {job.job_id}: {why}")
    return out


@trace_app.command("check")
def trace_check(
    path: Path,
    cluster: Annotated[
        Path | None, typer.Option(help="check it for this cluster file, as hal simulate --cluster")
    ] = None,
    gpus: Annotated[bool, typer.Option("--gpus", help="with --cluster: each trace processor is a GPU")] = False,
    every: Annotated[
        bool, typer.Option("--all", help="list every unreadable, skipped and rejected job (default: the first ones)")
    ] = False,
) -> None:
    """Read a trace as `hal simulate` loads it: its header, the lines that cannot be read and the jobs the replay
    skips (the first ones; --all lists every one), what it reads differently; exit 1 when the replay would
    refuse the file."""
    from hal.cli.common import note_workload
    from hal.sim.accounting import partition_names
    from hal.sim.runner import SimOptions, load
    from hal.sim.workload import to_workload

    try:
        trace = read_swf(path)
    except TraceError as exc:  # 1: the replay refuses the file; 2: the path names none (a usage error)
        raise unreadable(path, exc) from exc
    refused = []
    try:
        partition_names(trace.header)
        machine = SimOptions(cluster=cluster, gpus=gpus)
        workload = load(path, machine)[1] if cluster is not None or gpus else to_workload(trace)
    except ValueError as exc:  # a malformed MaxProcs/MaxNodes header too, in hal simulate's words (HeaderError)
        refused.append(str(exc))
        workload = None
    # what the engine itself refuses at submission on the cluster (switch fabrics, blocks, segments)
    rejected = engine_rejections(workload, SimOptions(cluster=cluster, gpus=gpus)) if workload and cluster else []
    usable = len(workload.jobs) - len(rejected) if workload is not None else 0
    out.print(
        f"{path}: {len(trace.records)} jobs, MaxProcs={header_size(trace)}, {len(trace.problems)} bad lines, "
        f"{usable} jobs a replay runs"
    )
    listing = list_all if every else first_ones
    listing(list(trace.problems), "unreadable")
    # a replay's notes (note_workload, below) carry the header's and the jobs' (hal.sim.trace_notes)
    own = [*trace.notes, *data_notes(trace)] if workload is None else []
    for note in [*own, *header_warnings(trace), *order_notes(trace.records)]:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if workload is not None:
        listing(list(workload.skipped), "skipped by a replay")
        note_workload(workload)
        shown = rejected if every else rejected[:20]
        for why in shown:
            out.print(f"rejected by the scheduler: {why}")
        if len(rejected) > len(shown):
            out.print(f"... and {len(rejected) - len(shown)} more rejected (--all lists every one)")
        if not refused and not usable:
            refused.append(no_jobs(trace, workload, len(rejected)))
    for why in refused:
        out.print(Text.assemble(("a replay refuses this file:", "red"), f" {why}"))
    if refused or not usable:
        raise typer.Exit(1)

"""`hal explain JOB`: where a job was placed and why, part by part (topology, data to move, fragmentation).

Live (a running server): the job's state, reason and nodes, plus the placement parts when the server
records them. What-if (``--trace`` and ``--cluster``): replays the trace with topology-aware placement and
shows, at the moment the job started, the parts of its placement and of the best alternatives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from hal.cli.common import fail, out
from hal.clusterfile import ClusterFileError
from hal.sim.swf import TraceError


def topology_advice(
    rec: dict[str, Any], held: str | None = None, candidates: list[dict[str, Any]] | None = None
) -> str:
    """Why a job waits with reason Topology: its own --switches, --segment or --topology required=LEVEL when it
    asked for one, else the domains no job spans (QA: a plain -N2 job was told of requests it never made), in the
    server's words when it gives them (``held``: the domain its size calls for, with the most it may use in one;
    for a --switches job within its wait, whether that domain holds it and when the wait runs out).
    It said "its largest block aggregation" of a job that topology/block keeps in the smallest one that holds it.
    The server's words come first: they also name the blocks an --exclusive=topo job waits to have to itself.
    ``candidates``: the placements free now in one domain it may span (the advice's); none means that domain does
    not hold it either, said only then (QA: it was said of a job four free nodes in that domain could take), and
    never of a --segment job: its candidates keep whole segments, so none says nothing of the domain's room (QA:
    said with 12 nodes idle in it)."""
    if held:
        return f"free nodes exist, but {held}"
    place = rec.get("placement_request") or {}
    asked = [f"--switches={place['switches']}"] if "switches" in place else []
    asked += [f"--segment={place['segment']}"] if "segment" in place else []
    asked += [f"--topology required={place['topology_required']}"] if place.get("topology_required") else []
    if asked:
        nor = " (nor the largest domain a job may span)" if candidates == [] and "segment" not in place else ""
        return f"free nodes exist, but not within its {' and '.join(asked)}{nor}{_switch_wait_end(rec)}"
    return (
        "free nodes exist, but not enough within one domain a job may span: one of the cluster's separate switch "
        "fabrics, or on topology/block the smallest block aggregation that holds its nodes (a node topology.conf "
        "lists in no switch or block is one alone)"
    )


def _switch_wait_end(rec: dict[str, Any]) -> str:
    """When a --switches job's wait runs out, from its record, or "": the engine counts it from when the job could
    first start (its submission, --begin, last release or dependencies met: controller/jobs.waiting_since)."""
    from hal.cli.live import stamp

    place, submit = rec.get("placement_request") or {}, rec.get("submit_time")
    wait = place.get("switches_wait_effective")
    if "switches" not in place or wait is None or submit is None:
        return ""
    since = max(float(rec.get(k) or 0.0) for k in ("submit_time", "begin", "released", "eligible"))
    return f"; its --switches wait runs out at {stamp(since + float(wait))}"


def _parts_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """The parts, unweighted, and under them how the total weighs them (QA: the columns did not visibly add up)."""
    table = Table(title=title)
    w = next((p["weights"] for _, p in rows if isinstance(p.get("weights"), dict)), None)
    if w is not None:  # parts recorded before the weights were kept have none to show
        from hal.engine.plugins.score import PlacementWeights

        table.caption = PlacementWeights(w["topology"], w["data"], w["fragmentation"]).formula()
    for col in ("placement", "level", "leaves", "topology", "data s", "bytes", "egress $", "data", "frag", "total"):
        table.add_column(col, justify="right" if col not in ("placement", "level") else "left")
    for label, p in rows:
        table.add_row(
            label, str(p["level"]), str(p["leaves"]), f"{p['topology']:.3f}", f"{p['data_seconds']:.3g}",
            f"{p['bytes_to_move']:,.0f}", f"{p['egress_dollars']:.2f}", f"{p['data']:.3f}",
            f"{p['fragmentation']:.3f}", f"{p['total']:.3f}",
        )  # fmt: skip
    return table


def _what_if(job_id: int, trace: Path, cluster_file: Path, profile_file: Path | None = None) -> None:
    """``profile_file``: the profile a `hal simulate --profile` run placed with, so its [placement] weights (and
    the rest of its policy) are the ones explained; without it the replay ran on default weights only (QA)."""
    from hal.clusterfile import load_cluster
    from hal.engine.nodes import NodeBook
    from hal.engine.plugins.placement_explain import alternatives
    from hal.engine.plugins.placement_parts import parts_of, room_of
    from hal.engine.plugins.topology import TopologySelector
    from hal.engine.plugins.topology_span import bind_capacity
    from hal.engine.predict.registry import make_predictor
    from hal.engine.profile import Profile
    from hal.model.cluster import NodeTable
    from hal.model.topology import Topology
    from hal.sim.accounting import into_partitions
    from hal.sim.placement_sim import PlacementSimulation
    from hal.sim.swf import read_swf
    from hal.sim.workload import to_workload

    cluster = load_cluster(cluster_file)
    table = NodeTable.of(cluster)
    profile = Profile()
    if profile_file is None:
        selector = TopologySelector(cluster.topology or Topology.flat(len(table)))
        book = NodeBook(table, selector=selector)
        bind_capacity(book)  # jobs without -N sized by their tasks on the nodes they may use, as the server does
    else:
        from hal.cli.simulate import read_profile
        from hal.engine.plugins.leaf_reserve import placement_book

        try:
            profile = read_profile(profile_file, has_tree=True)  # as hal simulate --profile and hal server read it
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if profile.placement != "topology":
            raise fail(f"{profile_file}: a what-if explains topology placement, not {profile.placement!r}")
        book = placement_book(table, profile, cluster.topology)  # as hal simulate --profile builds it
        assert isinstance(book.select, TopologySelector)
        selector = book.select
    swf = read_swf(trace)
    workload = into_partitions(to_workload(swf, int(table.capacity[:, 0].sum())), swf, cluster)
    jobs = workload.jobs
    where = next((i for i, j in enumerate(jobs) if j.job_id == job_id), None)
    if where is None:
        why = next((str(p) for p in workload.skipped if f"job {job_id}:" in p.message), "no such job in the trace")
        raise fail(f"job {job_id} cannot be replayed from {trace}: {why}")
    found: dict[str, Any] = {}

    class Found(Exception):
        """The job started: the rest of the trace cannot change where it went, so the replay stops there."""

    def on_start(spec: Any, nodes: tuple[int, ...], now: float) -> float:
        if spec.job_id == job_id:
            alloc = sim.sched.running[job_id].alloc
            req = sim.sched.running[job_id].item.req
            book.release(alloc)
            room, _ = room_of(book, req, lists=False)
            found["chosen"] = parts_of(selector, req, np.asarray(nodes, dtype=np.intp), room).as_dict()
            found["alternatives"] = [p.as_dict() for p in alternatives(selector, book, req, chosen=tuple(nodes))]
            book.take(alloc)
            found["when"], found["nodes"] = now, table.nodelist(list(nodes))
            found["wait"] = now - spec.submit_time
            raise Found
        return 0.0

    sim = PlacementSimulation(jobs, book, profile, make_predictor("user"), selector.index, on_start=on_start)
    try:
        out_of = sim.run()
    except Found:
        out_of = None
    if not found:
        rejected = [r for r in (out_of.rejected if out_of is not None else []) if r.startswith(f"job {job_id}:")]
        raise fail(rejected[0] if rejected else f"job {job_id} never started in the replay")
    out.print(
        f"job {job_id} started at t={found['when']:.0f} s after waiting {found['wait']:.0f} s on {found['nodes']}"
    )
    rows = [("chosen", found["chosen"])] + [(f"alternative {i + 1}", p) for i, p in enumerate(found["alternatives"])]
    out.print(_parts_table("placement score parts (lower total wins)", rows))


def _pending(rec: dict[str, Any], node_cpus: int = 0, told: bool = False) -> None:
    """``told``: the why was given already (the server named what holds it)."""
    from hal.cli.live import duration, stamp, tres
    from hal.cli.show import advice_for

    why = advice_for(rec)  # QA: a reason with details (ReqNodeNotAvail, UnavailableNodes:...) found no advice
    if why and rec.get("reason") != "Topology" and not told:
        out.print(f"  why: {why}")
    limit = f"a {duration(rec['time_limit'])} time limit" if rec.get("time_limit") else "no time limit"
    if rec.get("runtime_assumed"):  # the forecasts of the jobs behind it rest on that guess (hal show says it too)
        limit += f" (planned as a {duration(rec['runtime_assumed'])} run: assumed, as it has no history)"
    asks = tres(rec, node_cpus=node_cpus)  # without -N: the fewest nodes, as hal queue and hal show count them
    out.print(f"  asks for: {asks} with {limit} in partition {rec['partition']}")
    if rec.get("queue_position"):
        out.print(f"  queue position: {_position(int(rec['queue_position']))}")
    if rec.get("forecast_pending"):  # made in the background (hal queue and hal show say so too)
        plan = f"; the planner starts it at {stamp(rec['predicted_start'])}" if rec.get("predicted_start") else ""
        out.print(f"  forecast start: still being computed (run hal explain again in a few seconds){plan}")
    elif rec.get("predicted_start"):
        p90 = f", by {stamp(rec['predicted_start_p90'])} at 90%" if rec.get("predicted_start_p90") else ""
        out.print(f"  forecast start: {stamp(rec['predicted_start'])}{p90}")
    elif rec.get("start_unknown"):  # the server's why: a pinning job with no known end, too few caches, ...
        out.print(f"  forecast start: N/A ({rec['start_unknown']})")
    elif rec.get("reason") == "CacheWait":  # no forecast covers it (yet): no reason to guess at
        out.print("  forecast start: N/A")


def state_lines(rec: dict[str, Any]) -> list[str]:
    """The header: the job's state as `hal show` and `hal queue` show it (QA: RUNNING while they said CONFIGURING
    during a stage-in; a job being stopped is COMPLETING), and what a staging job does."""
    from hal.cli.queue_select import shown_states

    rec = shown_states([dict(rec)])[0]
    lines = [f"job {rec['id']}: {rec['state']} reason={rec.get('reason') or 'None'} nodes={rec.get('nodelist') or '-'}"]
    if rec["state"] == "CONFIGURING":
        lines.append("  why: it holds its nodes while its --input-data are staged into their caches")
    return lines


def _position(place: int) -> str:
    """'1 (next in line)', '3 (2 jobs ahead)': "(1 starts next)" read as if job 1 started next (QA)."""
    ahead = place - 1
    return f"{place} (next in line)" if ahead == 0 else f"{place} ({ahead} job{'s' if ahead > 1 else ''} ahead)"


def _advice(advice: dict[str, Any], job: str) -> None:
    """The fix to try: a shorter --time when this user's jobs of this name finished well inside theirs."""
    from hal.cli.live import duration, stamp

    if advice.get("candidates"):
        rows = [(f"candidate {i + 1}: {p.get('nodes') or '?'}", p) for i, p in enumerate(advice["candidates"])]
        title = "placements free right now (lower total wins; its --switches or --segment may still refuse them)"
        out.print(_parts_table(title, rows))
    _min_advice(job, advice.get("time_min"))
    got = advice.get("time")
    if not got:
        return
    limit, ran, longest = (
        duration(got["time_limit"]),
        f"your last {got['runs']} completed jobs of this name ran",
        float(got["longest_run"]),
    )
    ran += " in under a second" if longest < 1.0 else f" at most {duration(longest)}"  # "at most 0:00": never ran? (QA)
    if got["sooner"]:
        before = stamp(got["planned_start"]) if got["planned_start"] else "no planned start"
        then = stamp(got["planned_start_with"])  # the backfill plan's starts, not the forecast above (QA: two times)
        out.print(
            f"  try: --time={limit} ({ran}): the backfill plan, which plans every job on its time limit, starts it "
            f"at {then} instead of {before} (the forecast above plans on predicted run times)"
        )
        out.print(f"       apply it in place: hal update {job} TimeLimit={limit}", highlight=False)
    else:
        out.print(f"  --time={limit} ({ran}) would not start it sooner")


def _min_advice(job: str, got: dict[str, Any] | None) -> None:
    """The --time-min offer: backfill would start it now if it accepted a shorter limit."""
    from hal.cli.live import duration

    if not got:
        return
    offered, run = duration(got["limit"]), duration(got["predicted_run"])
    if got.get("time_min") is None:
        out.print(
            f"  with a --time-min it could start now, but only with TimeLimit={offered}, under its predicted run {run}"
        )
        return
    asked = duration(got["time_min"])
    out.print(
        f"  try: --time-min={asked}: backfill would start it now with TimeLimit={offered} (the time left before the"
        f" next reservation; its predicted run time is {run}); the limit is then its kill limit"
    )
    out.print(f"       apply it in place: hal update {job} TimeMin={asked}", highlight=False)


def explain(
    job: Annotated[str, typer.Argument(help="job id")],
    trace: Annotated[
        Path | None,
        typer.Option(
            help="what-if: replay this SWF trace as `hal simulate --cluster C --placement topology` does, "
            "processors as CPUs, on user estimates (no --gpus, --whole-nodes or --window)"
        ),
    ] = None,
    cluster: Annotated[
        Path | None, typer.Option(help="what-if: cluster TOML (its [topology] table, or one switch without)")
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="what-if: the profile TOML `hal simulate --profile` ran with (its policy and [placement] weights)"
        ),
    ] = None,
) -> None:
    """Where a job runs or why it waits, with the parts of its placement score."""
    if trace is not None or cluster is not None or profile is not None:
        if trace is None or cluster is None:
            raise fail(
                "a what-if explanation needs both --trace and --cluster"
                + (" (--profile is for one)" if profile else "")
            )
        if not job.isdigit():
            raise fail(f"a what-if explanation takes a trace job number (SWF field 1), not {job!r}")
        try:
            _what_if(int(job), trace, cluster, profile)
        except (TraceError, ClusterFileError) as exc:
            raise fail(str(exc)) from exc
        return
    from hal.cli.live import client
    from hal.controller.parked import parked_advice

    with client() as c:
        rec = c.get(job, start=True)
        node_cpus = max((int(n.get("cpus", 0)) for n in c.nodes().get("nodes", [])), default=0) if rec else 0
        # a parked job has no start to bring forward until it fits
        advice = c.advice(job) if rec["state"] == "PENDING" and parked_advice(rec) is None else None
    for line in state_lines(rec):
        out.print(line)
    held = (advice or {}).get("topology")  # Resources too: idle nodes other jobs' --exclusive=topo blocks hold
    told = rec.get("reason") == "Topology" or bool(held and rec.get("reason") in ("Resources", "DataLocality"))
    if told:
        out.print(f"  why: {topology_advice(rec, held, advice.get('candidates') if advice is not None else None)}")
    if rec["state"] == "PENDING":  # why it waits, where it stands, when it should start (it said nothing more)
        _pending(rec, node_cpus, told)
        if advice is not None:
            _advice(advice, job)
        return
    placement = rec.get("placement")
    if placement:
        out.print(_parts_table("placement score parts", [("chosen", placement)]))
    else:
        out.print("  (the server did not record placement parts for this job)")

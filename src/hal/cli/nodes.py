"""`hal nodes`: sinfo's view, grouped by partition and state; --long lists nodes with their topology."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import typer
from rich.table import Table

from hal.cli.common import out
from hal.cli.live import JsonOpt, client, duration, emit_json, stamp
from hal.executors.hostlist import compress


def nodes(
    long: Annotated[
        bool, typer.Option("--long", "-l", help="one line per node with CPUs, memory and topology")
    ] = False,
    reasons: Annotated[bool, typer.Option("--list-reasons", "-R", help="drained nodes and why (sinfo -R)")] = False,
    json_out: bool = JsonOpt,
) -> None:
    """Partitions and nodes: idle, mix, alloc, blocked (free, but in the block of an --exclusive=topo job), or
    drain/drng when drained, as sinfo shows them, grouped by topology domain."""
    with client() as c:
        info = c.nodes()
    if json_out:
        emit_json(info)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    if reasons:
        by_reason: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for n in info["nodes"]:
            if n.get("reason"):
                key = (n["reason"], n.get("reason_user", ""), stamp(n.get("reason_time")), n["state"])
                by_reason[key].append(n["name"])
        for col in ("REASON", "USER", "TIMESTAMP", "STATE", "NODELIST"):  # sinfo -R's, with the state
            table.add_column(col)
        for key, names in sorted(by_reason.items()):
            table.add_row(*key, compress(names))
        out.print(table)
        return
    if long:
        cache = any("cache_size" in n for n in info["nodes"])  # a data plane: each node's cache too
        cols = ("NODELIST", "PARTITION", "STATE", "CPUS(A/T)", "MEMORY(A/T MB)", "GPUS(A/T)", "TOPOLOGY", "CPUSET")
        for col in (*cols, *(("CACHE(USED/HELD/SIZE)",) if cache else ())):
            table.add_column(col)
        for n in info["nodes"]:
            row = [
                n["name"], ",".join(n["partitions"]), n["state"], f"{n['cpus_alloc']}/{n['cpus']}",
                f"{n['mem_alloc_mb']}/{n['mem_mb']}", _gpus(n), _where(n),
                ",".join(str(x) for x in n["cpuset"]),
            ]  # fmt: skip
            if cache:
                row.append("/".join(size_text(n[k]) for k in ("cache_bytes", "cache_held", "cache_size")))
            table.add_row(*row)
        out.print(table)
        return
    for col in ("PARTITION", "AVAIL", "TIMELIMIT", "NODES", "STATE", "TOPOLOGY", "NODELIST"):
        table.add_column(col, justify="right" if col == "NODES" else "left")
    for part in info["partitions"]:
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)  # (leaf domain, state): nodes
        for n in info["nodes"]:
            if n["name"] in part["nodes"]:
                groups[(_where(n), n["state"])].append(n["name"])
        label = part["name"] + ("*" if part["default"] else "")
        for (where, state), names in sorted(groups.items()):
            row = [label, "up", time_limit(part["max_time"]), str(len(names)), state, where, compress(names)]
            table.add_row(*row)
    out.print(table)


def time_limit(seconds: float | None) -> str:
    """sinfo's TIMELIMIT: ``infinite`` for a partition without one (squeue and scontrol say UNLIMITED)."""
    return "infinite" if seconds is None else duration(seconds)


def _gpus(n: dict[str, Any]) -> str:
    """Allocated/total GPUs, with their type (gpu_type in the cluster file) as sinfo's GRES shows it."""
    kind = next((f.removeprefix("gpu:") for f in n.get("features", ()) if f.startswith("gpu:")), "")
    return f"{n['gpus_alloc']}/{n['gpus']}" + (f" {kind}" if kind else "")


def _where(n: dict[str, Any]) -> str:
    """The node's topology path; ``(no switch)`` (or block) for a node topology.conf lists under none, each its
    own fabric (its path repeats a domain of its own: noswitch:c07/noswitch:c07)."""
    outside = n.get("topology_outside")
    return f"(no {outside})" if outside else "/".join(n["topology"])


def size_text(size: int) -> str:
    """Bytes in the unit that keeps them readable (a 400K cache read 0/0/0 in whole MB): 0, 512, 400K, 1.5G."""
    value = float(size)
    for unit in ("", "K", "M", "G"):
        if value < 1024:
            return f"{value:.0f}{unit}" if value >= 10 or value == int(value) else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:,.0f}T"

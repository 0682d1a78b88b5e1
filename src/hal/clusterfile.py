"""Cluster description files (TOML): partitions, node groups and topology, and a uniform generator."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hal import clusterfile_values as values
from hal.clusterfile_values import MAX_CPUS, MAX_GPUS
from hal.clusterfile_values import parse_cpuset as parse_cpuset  # where the server's machine reads it
from hal.model.cluster import Cluster, Node, Partition
from hal.model.resources import Resources
from hal.model.topology import Topology
from hal.textfile import read_text

_log = logging.getLogger("hal.topology")  # where import warnings go without a ``warn`` (topology.conf's too)

_MEM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


class ClusterFileError(ValueError):
    """A cluster file that cannot describe a machine, with where it went wrong."""


class NamedError(ClusterFileError):
    """An error that names its own file (topology.conf's, with its line): load_cluster adds no second name."""


def parse_mem_mb(value: int | str) -> int:
    """Memory as Slurm writes it: 4096 (MB), '4G', '512M', '1T'."""
    if isinstance(value, int):
        return value
    match = _MEM.match(str(value))
    if not match:
        raise ClusterFileError(f"cannot read memory amount {value!r} (use e.g. 4096, '4G', '512M')")
    return round(float(match.group(1)) * _UNITS[match.group(2).upper()])


_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)  # what a malformed table raises when read


def _explain(exc: Exception) -> str:
    return f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)


KEYS = {
    "": ("name", "nodes", "partitions", "topology", "data"),
    "[[nodes]]": (
        "prefix",
        "name",
        "names",
        "count",
        "cpus",
        "mem",
        "gpus",
        "extras",
        "features",
        "partitions",
        "cpuset",
        "gpu_type",
    ),
    "[[partitions]]": ("name", "max_time", "priority_tier", "default"),
    "[topology]": ("levels", "fanouts", "slurm_conf", "plugin", "block_size"),
}
RESERVED_LEVELS = ("node", "cluster")  # the finest and the whole machine are always there


def _known(table: dict[str, Any], kind: str, where: str) -> None:
    """A misspelt key (``fanout``, ``cache_size``) is an error, not a silent default."""
    unknown = sorted(set(table) - set(KEYS[kind]))
    if unknown:
        raise ClusterFileError(f"{where}: unknown key(s) {unknown}; known: {sorted(KEYS[kind])}")


def _group(spec: dict[str, Any], where: str) -> list[Node]:
    if not isinstance(spec, dict):
        raise ClusterFileError(f"{where}: not a table")
    _known(spec, "[[nodes]]", where)
    if not {"prefix", "name", "names"} & set(spec):
        raise ClusterFileError(f'{where}: name the nodes: prefix (and count), or names (e.g. "gpu[001-036]")')
    try:
        count = values.node_count(spec)
        prefix = "" if "names" in spec else values.prefix(spec)
        cap = Resources(
            cpus=values.whole(spec, "cpus", 1, MAX_CPUS),
            mem_mb=parse_mem_mb(values.mem_value(spec)),
            gpus=values.whole(spec, "gpus", 0, MAX_GPUS),
            extras=values.extras(spec),
        )
        if "cpuset" in spec:
            parse_cpuset(spec["cpuset"])
        feats = values.names_list(spec, "features", "feature names") + _gpu_feature(spec, cap.gpus)
        parts = values.names_list(spec, "partitions", "partition names")
    except _MALFORMED as exc:
        raise ClusterFileError(f"{where}: {_explain(exc)}") from exc
    if "names" in spec:  # Slurm's hostlist form, so a site's own names (and its topology.conf) carry over
        return [Node(name, cap, feats, parts) for name in _names(spec, where)]
    width = max(3, len(str(count - 1)))
    return [Node(f"{prefix}{i:0{width}d}", cap, feats, parts) for i in range(count)]


def _gpu_feature(spec: dict[str, Any], gpus: int) -> tuple[str, ...]:
    """``gpu_type = "a100"``: the feature "gpu:a100" that --gres=gpu:a100:N and --gpus=a100:N ask for."""
    kind = spec.get("gpu_type")
    if kind is None:
        return ()
    if not isinstance(kind, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,63}", kind):
        raise ValueError(f"gpu_type = {kind!r}: a name such as a100 or h100_80g")
    if gpus < 1:
        raise ValueError(f'gpu_type = "{kind}" on nodes without gpus')
    return (f"gpu:{kind}",)


def group_size(spec: dict[str, Any]) -> int:
    """How many nodes a (valid) [[nodes]] group describes: what else is per group (cpusets) counts on it."""
    return len(_names(spec, "[[nodes]]")) if "names" in spec else values.node_count(spec)


def _names(spec: dict[str, Any], where: str) -> list[str]:
    """``names = "gpu[001-036]"``: the nodes' own names, instead of ``prefix`` and ``count``."""
    from hal.executors.hostlist import expand

    if "prefix" in spec or "name" in spec:
        raise ClusterFileError(f"{where}: names lists the nodes; drop prefix/name")
    try:
        names = expand(str(spec["names"]))
    except ValueError as exc:
        raise ClusterFileError(f"{where}: names = {spec['names']!r}: {exc}") from None
    if not names or any(not n or "/" in n for n in names):
        raise ClusterFileError(f"{where}: names = {spec['names']!r} names no node")
    if "count" in spec and spec["count"] != len(names):  # a whole number: checked by _group
        raise ClusterFileError(f"{where}: count = {spec['count']} but names lists {len(names)} nodes")
    return names


def _partition(spec: dict[str, Any], nodes: list[Node], where: str) -> Partition:
    if not isinstance(spec, dict):
        raise ClusterFileError(f"{where}: not a table")
    _known(spec, "[[partitions]]", where)
    try:
        name = values.partition_name(spec)
        members = tuple(n.name for n in nodes if name in n.partitions or not n.partitions)
        return Partition(name, members, values.max_time(spec), values.priority_tier(spec), values.flag(spec, "default"))
    except _MALFORMED as exc:
        raise ClusterFileError(f"{where}: {_explain(exc)}") from exc


def _check_partitions(nodes: list[Node], partitions: list[Partition]) -> None:
    """Mistakes that leave a machine that cannot work as written: a node group in a partition never defined
    (its nodes ran nothing and hal nodes did not list them), a node without CPUs, two partitions of one name,
    two defaults."""
    names = [p.name for p in partitions]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ClusterFileError(f"[[partitions]]: {twice[0]!r} is defined twice")
    if sum(p.default for p in partitions) > 1:
        raise ClusterFileError(
            f"[[partitions]]: only one may be the default, not {[p.name for p in partitions if p.default]}"
        )
    for node in nodes:
        if node.capacity.cpus < 1:
            raise ClusterFileError(f"node {node.name}: cpus must be >= 1 (a node without CPUs runs nothing)")
        unknown = [p for p in node.partitions if p not in names] if partitions else []
        if unknown:
            raise ClusterFileError(f"node {node.name}: partition {unknown[0]!r} is not defined; known: {names}")
    empty = [p.name for p in partitions if not p.nodes]
    if empty:
        raise ClusterFileError(f"[[partitions]]: {empty[0]!r} has no nodes (list it in a [[nodes]] group's partitions)")


def _topology(topo: Any, n_nodes: int, warn: Callable[[str], None] | None = None) -> Topology:
    """The ``levels``/``fanouts`` tree; a node count that leaves the last leaf short is taken (as a block_size's
    last block is) but told through ``warn``: a job sized for a full leaf never fits in that one (QA: silent)."""
    try:
        raw_levels, raw_fanouts = topo.get("levels", ["switch"]), topo.get("fanouts", [n_nodes])
        if not isinstance(raw_levels, list) or not all(isinstance(x, str) and x for x in raw_levels):
            raise ValueError(f'levels is a list of names, e.g. ["rack", "switch"], not {raw_levels!r}')
        if not isinstance(raw_fanouts, list) or not all(values.is_int(x) for x in raw_fanouts):
            raise ValueError(
                f"fanouts is a list of whole numbers (children per domain), e.g. [4, 8], not {raw_fanouts!r}"
            )
        levels, fanouts = tuple(raw_levels), tuple(int(x) for x in raw_fanouts)
        if ("levels" in topo) != ("fanouts" in topo):  # one alone was read as a single 100-node switch (QA)
            given, missing = ("levels", "fanouts") if "levels" in topo else ("fanouts", "levels")
            raise ValueError(
                f"{given} needs {missing} beside it: levels name the tree's levels top first and fanouts give each "
                'one\'s children, the last the nodes per leaf (e.g. levels = ["rack", "switch"], fanouts = [4, 8])'
            )
        if not levels or not fanouts:  # it was read as flat, and `hal cluster show` said no table was given (QA)
            raise ValueError(
                'levels and fanouts name at least one level (top first, e.g. levels = ["rack", "switch"], '
                "fanouts = [4, 8]); leave the [topology] table out for a flat cluster"
            )
        if len(set(levels)) != len(levels) or set(levels) & set(RESERVED_LEVELS):
            raise ValueError(f"levels must be distinct names other than {list(RESERVED_LEVELS)}, not {list(levels)}")
        values.level_names(levels)
        if any(f < 1 for f in fanouts):
            raise ValueError(f"fanouts must be positive (children per domain), got {list(fanouts)}")
        names = "the levels of the cluster file's [topology] table"
        tree = dataclasses.replace(Topology.tree(n_nodes, fanouts, levels), names_from=names)
    except _MALFORMED as exc:
        raise ClusterFileError(f"[topology]: {_explain(exc)}") from exc
    if n_nodes % fanouts[-1]:
        leaf, short = levels[-1], n_nodes % fanouts[-1]
        (warn or _log.warning)(
            f"[topology]: {n_nodes} nodes are not a multiple of fanouts' last ({fanouts[-1]} nodes per {leaf}): the "
            f"last {leaf}, {tree.paths[-1][-1]}, holds {short} of {fanouts[-1]}; it is kept as a short leaf, where a "
            f"job kept to one leaf fits only up to {short} node(s)"
        )
    return tree


def _check_unique(nodes: list[Node], group_of: list[int]) -> None:
    """Two nodes of one name, named with the groups they are in ("node names must be unique" said neither)."""
    counts = Counter(n.name for n in nodes)
    twice = [name for name, k in counts.items() if k > 1]
    if not twice:
        return
    groups = sorted({g for n, g in zip(nodes, group_of, strict=True) if counts[n.name] > 1})
    where = " and ".join(f"#{g}" for g in groups)
    more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
    raise ClusterFileError(
        f"node names must be unique: {', '.join(twice[:5])}{more} named more than once (in [[nodes]] {where})"
    )


def cluster_from_dict(
    data: dict[str, Any], folder: Path | None = None, warn: Callable[[str], None] | None = None
) -> Cluster:
    """The cluster a parsed file describes; ``folder`` (the file's own) anchors relative paths in it; ``warn``
    takes what is read but left out or taken short (topology.conf's unknown nodes, a last leaf switch of fewer
    nodes than ``fanouts`` gives; default: the log)."""
    _known(data, "", "the cluster file")
    groups = data.get("nodes")
    if not isinstance(groups, list) or not groups:
        raise ClusterFileError("a cluster file needs at least one [[nodes]] group")
    nodes: list[Node] = []
    group_of: list[int] = []
    for i, spec in enumerate(groups):
        nodes.extend(_group(spec, f"[[nodes]] #{i + 1}"))
        group_of.extend([i + 1] * (len(nodes) - len(group_of)))
    _check_unique(nodes, group_of)
    part_specs = data.get("partitions", [])
    if not isinstance(part_specs, list):
        raise ClusterFileError("partitions must be [[partitions]] tables")
    partitions = [_partition(spec, nodes, f"[[partitions]] #{i + 1}") for i, spec in enumerate(part_specs)]
    _check_partitions(nodes, partitions)
    if not partitions:
        partitions.append(Partition("batch", tuple(n.name for n in nodes), default=True))
    topo = data.get("topology")
    if topo is not None and not isinstance(topo, dict):
        raise ClusterFileError("[topology] must be a table")
    if isinstance(topo, dict):
        _known(topo, "[topology]", "[topology]")
        forms = [k for k in ("slurm_conf", "block_size") if k in topo] + (
            ["levels/fanouts"] if {"levels", "fanouts"} & set(topo) else []
        )
        if len(forms) > 1:
            raise ClusterFileError(f"[topology]: give one of slurm_conf, block_size or levels/fanouts, not {forms}")
        if "plugin" in topo and "slurm_conf" not in topo:
            raise ClusterFileError(
                "[topology]: plugin (slurm.conf's TopologyPlugin) chooses the lines of slurm_conf's topology.conf HAL "
                "uses; give slurm_conf too"
            )
    if isinstance(topo, dict) and ("slurm_conf" in topo or "block_size" in topo):
        topology = _imported_topology(topo, [n.name for n in nodes], folder, warn)
    else:
        topology = _topology(topo, len(nodes), warn) if topo else Topology.flat(len(nodes))
    try:
        return Cluster(tuple(nodes), tuple(partitions), topology, str(data.get("name", "cluster")))
    except ValueError as exc:
        raise ClusterFileError(str(exc)) from exc


def load_cluster(path: str | Path, warn: Callable[[str], None] | None = None) -> Cluster:
    path = Path(path)
    text = read_text(path, "cluster file", ClusterFileError, undecodable="not valid TOML")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClusterFileError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return cluster_from_dict(data, path.parent, warn)
    except NamedError:
        raise
    except ClusterFileError as exc:  # named with the file: "[[nodes]] #2" alone left the user to guess which (QA)
        raise ClusterFileError(f"{path}: {exc}") from None


MEM_PER_CPU_GB = 4  # `hal cluster generate`'s memory without --mem: a common HPC ratio (32 CPUs: 128G)


def uniform_toml(n_nodes: int, cpus: int, mem: str | None = None, gpus: int = 0, name: str = "cluster") -> str:
    """The text of a uniform cluster file, for `hal cluster generate`: ``mem`` per node, by default
    MEM_PER_CPU_GB per CPU (a fixed 128G gave a 4-CPU node 32G per CPU, QA)."""
    mem = mem if mem is not None else f"{cpus * MEM_PER_CPU_GB}G"
    return (
        f'name = "{name}"\n\n[[nodes]]\nprefix = "n"\ncount = {n_nodes}\ncpus = {cpus}\nmem = "{mem}"\n'
        f'gpus = {gpus}\npartitions = ["batch"]\n\n[[partitions]]\nname = "batch"\ndefault = true\n'
    )


def _imported_topology(
    topo: dict[str, Any], names: list[str], folder: Path | None, warn: Callable[[str], None] | None
) -> Topology:
    """``slurm_conf = "topology.conf"`` (Slurm's tree or block form; ``plugin = "tree"`` or ``"block"`` chooses for
    a file that has both, as slurm.conf's TopologyPlugin) or ``block_size = 18`` (consecutive nodes in blocks,
    NVLink-style, aggregated as the same BlockName= lines would be)."""
    from hal.topology_conf import TopologyConfError, load_topology_conf, uniform_blocks

    try:
        if "slurm_conf" in topo:
            conf = Path(str(topo["slurm_conf"]))
            path = folder / conf if folder is not None and not conf.is_absolute() else conf
            return load_topology_conf(path, names, warn, topo.get("plugin"))
        size = topo["block_size"]
        if not values.is_int(size) or size < 1:
            raise ValueError(f"block_size is a whole number of nodes >= 1 (nodes per block), not {size!r}")
        return uniform_blocks(names, size)  # the same blocks as BlockName= lines, and Slurm's aggregations
    except TopologyConfError as exc:
        raise NamedError(f"[topology]: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise ClusterFileError(f"[topology]: {exc}") from exc

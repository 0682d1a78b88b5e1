"""A cluster file's ``[data]`` table into a running data plane: its keys checked (a misspelt one, a bad path
template or a size that cannot work is an error at start, not a crash when a job ends), then the caches,
catalog, stager, placement and stage-out wired onto the controller (hal/data/live.py does the staging)."""

from __future__ import annotations

import logging
import re
from typing import Any

from hal.data.cache_roots import watch_roots
from hal.data.data_checks import check_cache_folders, check_catalog, check_output_location
from hal.data.fit import retry_parked
from hal.data.live import LiveStaging
from hal.data.outputs import OutputStaging
from hal.data.places import check_config, process_local
from hal.data.relative_paths import anchored, relative_url
from hal.data.stager import Stager

log = logging.getLogger("hal.data")


def enable(controller: Any, table: dict[str, Any]) -> LiveStaging:
    """Turn on topology- and data-aware placement and stage-in for a controller, from a cluster file's
    ``[data]`` table: ``cache_dir`` (with ``{node}``), ``cache_bytes`` (e.g. "100G"), ``catalog`` (a JSON
    path), ``attempts``, ``backoff``, ``stall_timeout`` (s without data before a copy attempt fails),
    ``max_requeues``, ``requeue_wait`` and ``cache_wait`` (seconds a job is held after a failed stage-in, or when
    the caches are full of running jobs' inputs; both double), ``delay`` (delay scheduling, seconds),
    ``delay_policy`` ("plain" or "gated": see ``delay_policy``), and for
    ``--output-data``: ``output_uri`` (any fsspec URL with ``{name}`` and ``{job}``), ``output_location``
    (its catalog location, default "origin") and ``keep_failed_outputs`` (s a failed stage-out's file is kept in
    its job's folder, default 7 days, removed by the first start after that; 0: kept for good)."""
    from pathlib import Path

    from hal.data.start_faults import claim_folders, drain_unusable

    stall, capacity, pattern = check_data_table(table)
    names = controller.table.names
    check_config(table, [Path(pattern.format(node=n)) for n in names])  # the catalog, outputs: not in a cache
    check_output_location(table, names, controller.machine.cluster.topology)
    catalog_path = Path(table["catalog"]) if table.get("catalog") else None
    previous = getattr(controller, "staging", None)
    if isinstance(previous, LiveStaging) and previous.owned is not None:  # set up again: the old one is replaced
        previous.owned.release()
    # before the caches are opened (opening one removes the copies under way into it); outputs: the default
    # stage-out folder. A node whose folder fails is drained, the others serve (hal/data/start_faults.py).
    owned = claim_folders(controller, catalog_path, pattern, names, "output_uri" not in table)
    try:
        staging = _wire(controller, table, names, pattern, capacity, catalog_path, stall)
        drain_unusable(controller, staging.stager.caches, owned.faults)
    except BaseException:
        owned.release()
        raise
    staging.owned = owned  # held while the server runs; LiveStaging.shutdown releases it
    watch_roots(staging, controller)  # a cache folder removed behind its back is made again, emptied (QA)
    retry_parked(controller)  # jobs recovered before it parked for want of it: `hal server` enables it first
    return staging


def check_data_table(table: dict[str, Any]) -> tuple[float, int, str]:
    """What can be told wrong in ``[data]`` without opening anything (`hal cluster show` checks it too): the
    stall timeout, the cache capacity in bytes and the cache folder template."""
    unknown = sorted(set(table) - set(DATA_KEYS))
    if unknown:
        raise ValueError(f"[data]: unknown key(s) {unknown}; known: {sorted(DATA_KEYS)}")
    stall = _seconds(table, "stall_timeout", 300.0)
    if stall <= 0:
        raise ValueError("[data] stall_timeout must be > 0 seconds")
    size = table.get("cache_bytes", "10G")
    capacity = byte_size(size)
    if capacity is None or capacity <= 0:
        raise ValueError(
            f'[data] cache_bytes must be a positive size in bytes or with a unit ("500M", "100G"), not {size!r}'
        )
    pattern = str(table.get("cache_dir", "/var/tmp/hal-cache/{node}"))
    each = "every node has a cache folder of its own (e.g. '/var/tmp/hal-cache/{node}')"  # evictions stay apart
    _template(pattern, "cache_dir", {"node"}, {"node"}, each)
    if "output_uri" in table:
        each = "every output has a place of its own (e.g. 's3://bucket/{job}/{name}')"
        _template(str(table["output_uri"]), "output_uri", {"name", "job"}, {"name"}, each)
        if why := process_local(str(table["output_uri"])):  # a restart loses every published output
            raise ValueError(f"[data] output_uri: {why}")
        if why := relative_url("output_uri", str(table["output_uri"])):  # also unchecked against the caches
            raise ValueError(why)
    if _count(table, "attempts", 3) < 1:
        raise ValueError("[data] attempts must be at least 1 (the first copy counts)")
    _count(table, "max_requeues", 2)
    for key in ("backoff", "cache_wait", "requeue_wait", "delay_min", "keep_failed_outputs"):
        _seconds(table, key, 0.0)  # keep_failed_outputs was read only once the home was made (QA)
    if not isinstance(table.get("catalog", ""), str):  # Path(5) crashed enable
        raise ValueError(f"[data] catalog is the catalog file's path, not {table['catalog']!r}")
    delay_policy(table)
    transfer_model(table)
    return stall, capacity, pattern


def _wire(
    controller: Any, table: dict[str, Any], names: list[str], pattern: str, capacity: int, catalog_path: Any,
    stall: float,
) -> LiveStaging:  # fmt: skip
    """The rest of ``enable``, once this server owns the catalog and cache folders."""
    from pathlib import Path

    import numpy as np

    from hal.data.bridge import LocalityBridge, running_jobs
    from hal.data.cache import NodeCache
    from hal.data.catalog import Catalog
    from hal.data.sources import cheapest_first
    from hal.data.stager import RetryPolicy
    from hal.engine.plugins.locality import Locality
    from hal.engine.plugins.topology import TopologyArgs, TopologySelector
    from hal.model.topology import Topology

    caches = {n: NodeCache(n, Path(pattern.format(node=n)), capacity) for n in names}  # a broken one: its fault
    check_disks(caches)
    catalog = Catalog(catalog_path)
    if not table.get("catalog"):
        log.warning("[data] names no catalog file: datasets added or staged out while running are lost at a restart")
    policy = RetryPolicy(_count(table, "attempts", 3), _seconds(table, "backoff", 0.5))  # checked by enable
    topology = controller.machine.cluster.topology or Topology.flat(len(names))
    delay, gated = delay_policy(table)
    least = _seconds(table, "delay_min", 60.0)  # staging elsewhere must take this long before a job waits
    args = TopologyArgs(
        data_delay=0.0 if gated else delay, data_delay_min=least, max_switch_wait=controller.profile.max_switch_wait,
        weights=controller.profile.placement_weights,
    )  # fmt: skip
    selector = TopologySelector(topology, args)
    selector.names = tuple(names)
    selector.data = Locality(selector.index, transfer_model(table))
    check_egress(selector.data)
    LocalityBridge(catalog, selector.data, names)
    selector.data.running = running_jobs(controller)  # delay scheduling predicts from the jobs running now
    order = cheapest_first(topology, names, selector.data)  # the copy the score priced (QA: a cloud mirror's)
    stager = Stager(catalog, caches, policy, order=order, guard=lambda: controller.lock)
    stager.stopping = lambda job_id: job_id in controller.cancelling  # `hal cancel` stops a copy mid-way
    stager.stall_timeout = stall
    stager.keep_failed_outputs = _seconds(table, "keep_failed_outputs", 7 * 86400.0)
    selector.data.cache_room = lambda: (
        np.array([caches[n].capacity - caches[n].used() for n in names], dtype=np.float64),
        np.array([caches[n].free_room() for n in names], dtype=np.float64),
    )
    if gated:  # delay scheduling gated by the predicted wait (from the running jobs: Locality.running)
        from hal.engine.plugins.data_delay import DataDelay, DelayPolicy

        explicit = "delay" in table  # an explicit 0 waits for nothing (it took the 1800 s default, QA)
        gate = DelayPolicy(max_wait=delay, min_saving=least) if explicit else DelayPolicy(min_saving=least)
        controller.book.select = DataDelay(selector, selector.data, gate)
    else:
        controller.book.select = selector
    reserver = getattr(controller.book, "reserver", None)
    if reserver is not None:  # a profile's leaf reservation now holds jobs through this selector
        reserver.selector, selector.holds = selector, {}
    dest = str(table.get("output_uri", str(Path(pattern.format(node="outputs")) / "{job}" / "{name}")))
    outputs = OutputStaging(stager, dest, table.get("output_location", "origin"))  # checked by enable
    controller.staging = LiveStaging(stager, _count(table, "max_requeues", 2), outputs)
    controller.staging.cache_wait = _seconds(table, "cache_wait", 30.0)
    controller.staging.requeue_wait = _seconds(table, "requeue_wait", 60.0)
    return controller.staging  # type: ignore[no-any-return]


def check_disks(caches: dict[str, Any]) -> list[str]:
    """A warning for each filesystem whose node caches may together grow past what it can give them (its free
    bytes plus what they already hold): QA started 4 caches of cache_bytes = "3G" on a 300 MB tmpfs without a
    word, and the first large stage-in failed with ENOSPC. One line per filesystem, logged and returned."""
    import os
    import shutil

    shared: dict[int, list[Any]] = {}
    for cache in caches.values():
        try:
            shared.setdefault(os.stat(cache.root).st_dev, []).append(cache)
        except OSError:
            continue
    said = []
    for group in shared.values():
        try:
            disk = shutil.disk_usage(group[0].root)
        except OSError:
            continue
        room = disk.free + sum(c.used() for c in group)
        total = sum(c.capacity for c in group)
        if total > room:
            names = ", ".join(c.node for c in group[:4]) + (", ..." if len(group) > 4 else "")
            said.append(
                f"[data] cache_bytes = {_size(group[0].capacity)} for {len(group)} node cache(s) ({names}) is "
                f"{_size(total)} together, more than their filesystem at {group[0].root} can give them "
                f"({_size(room)}: {_size(disk.free)} free of {_size(disk.total)}); stage-ins will fail with 'No "
                "space left on device' once it fills: lower cache_bytes or move cache_dir"
            )
    for line in said:
        log.warning("%s", line)
    return said


def _size(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def _template(text: str, key: str, allowed: set[str], needed: set[str], example: str) -> None:
    """A path template's placeholders, checked at start (a bad one crashed the loop when a job ended)."""
    import string

    try:
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ValueError(f"[data] {key} = {text!r}: {exc}") from None
    unknown, missing = sorted(used - allowed), sorted(needed - used)
    if unknown:
        takes = " and ".join("{" + a + "}" for a in sorted(allowed))
        raise ValueError(f"[data] {key} = {text!r}: unknown placeholder {{{unknown[0]}}}; it takes only {takes}")
    if missing:  # it read "needs {node}; it takes {node}" (QA)
        raise ValueError(f"[data] {key} = {text!r}: needs {{{missing[0]}}}, so that {example}")


DATA_KEYS = ("cache_dir", "cache_bytes", "catalog", "attempts", "backoff", "max_requeues", "requeue_wait",
             "cache_wait", "delay", "delay_policy", "output_uri", "output_location", "stall_timeout",
             "bandwidth", "latency", "egress_per_gb", "egress_level", "dollars_per_hour", "delay_min",
             "keep_failed_outputs")  # fmt: skip
MODEL_KEYS = ("bandwidth", "latency", "egress_per_gb", "egress_level", "dollars_per_hour")


def transfer_model(table: dict[str, Any]) -> Any:
    """The placement score's transfer costs from ``[data]``: ``bandwidth`` (per second, from the leaf switch up:
    ["2.5G", "1.25G", "125M"]; a node's own cache is free), ``latency`` (seconds, the same levels),
    ``egress_per_gb`` ({"cloud": 0.09}: dollars per GB leaving a domain of that label) at ``egress_level``
    ("site"), and ``dollars_per_hour`` (10: the egress dollars worth an hour of stage-in, how the score adds the
    two); None (the built-in model) when none is given. It was fixed in code (QA)."""
    from hal.engine.plugins.locality import TransferModel

    if not any(k in table for k in MODEL_KEYS):
        return None
    base = TransferModel()
    rates = table.get("bandwidth", list(base.bandwidth[1:]))
    sizes = [float(r) if _number(r) else byte_size(r) for r in rates] if isinstance(rates, list) and rates else [None]
    if any(v is None or v <= 0 for v in sizes):
        raise ValueError(
            "[data] bandwidth is a list of rates per second from the leaf switch up, e.g. "
            f'["2.5G", "1.25G", "125M"], not {rates!r}'
        )
    waits = table.get("latency", list(base.latency[1:]))
    if not isinstance(waits, list) or not waits or not all(_number(w) and w >= 0 for w in waits):
        raise ValueError(
            f"[data] latency is a list of seconds from the leaf switch up, e.g. [0.0001, 0.001], not {waits!r}"
        )
    egress = table.get("egress_per_gb", {})
    if not isinstance(egress, dict) or not all(_number(v) and v >= 0 for v in egress.values()):
        raise ValueError(
            f"[data] egress_per_gb is a table of dollars per GB by domain, e.g. {{cloud = 0.09}}, not {egress!r}"
        )
    level = table.get("egress_level", base.egress_level)
    if not isinstance(level, str) or not level:
        raise ValueError(f"[data] egress_level is a topology level's name, not {level!r}")
    rate = table.get("dollars_per_hour", base.dollars_per_hour)
    if not (_number(rate) and 0 < rate < float("inf")):
        raise ValueError(
            "[data] dollars_per_hour is the egress dollars worth an hour of stage-in (how the placement score adds"
            f" the two), a number > 0, not {rate!r}"
        )
    return TransferModel(
        bandwidth=(float("inf"), *(float(v) for v in sizes if v is not None)),
        latency=(0.0, *(float(w) for w in waits)),
        egress_per_gb={str(k): float(v) for k, v in egress.items()},
        egress_level=level,
        dollars_per_hour=float(rate),
    )


def check_egress(loc: Any) -> list[str]:
    """``egress_per_gb`` priced at a level and domains the topology has, or a warning naming what it charges
    nothing (QA: egress_level = "zone" on a cluster without one, or a label no domain has, started without a word).
    The warnings, logged and returned (for tests)."""
    said = egress_warnings(loc.model, loc.index)
    for line in said:
        log.warning("%s", line)
    return said


def check_cluster_data(cluster: Any, table: dict[str, Any], here: bool = False) -> list[str]:
    """What `hal server` checks of a cluster file's ``[data]`` at start without creating anything (before its home),
    for `hal cluster show` and `hal simulate` too (QA: a catalog inside a node cache passed both, and the server
    refused it): every value enable() refuses raises ValueError here, with its message; what it warns of (egress
    priced at a level or domain the tree lacks) is returned. ``here``: also what only this machine can tell (the
    cache folders it could not make, a catalog it could not read): the server's, not a file checked or simulated
    on another machine."""
    from pathlib import Path

    from hal.engine.plugins.topology import TopoIndex
    from hal.model.topology import Topology

    _, _, pattern = check_data_table(table)
    names = [n.name for n in cluster.nodes]
    check_config(table, [Path(pattern.format(node=n)) for n in names])  # as enable() checks it
    check_output_location(table, names, cluster.topology)
    if here and table.get("catalog"):  # what enable() would refuse once the home is made, told before (QA)
        check_catalog(Path(table["catalog"]))
    if here:
        outputs = () if "output_uri" in table else ("outputs",)  # the default stage-out folder
        check_cache_folders(
            pattern, [Path(pattern.format(node=n)) for n in names], [Path(pattern.format(node=n)) for n in outputs]
        )
    model = transfer_model(table)
    if model is None:
        return []
    return egress_warnings(model, TopoIndex(cluster.topology or Topology.flat(len(names))))


def egress_warnings(model: Any, ix: Any) -> list[str]:
    """``check_egress``'s warnings for a transfer model on a topology index, not logged."""
    from hal.engine.plugins.locality import domain_name

    if not model.egress_per_gb:
        return []
    lvl = ix.level(model.egress_level)
    said = []
    if lvl is None:
        said.append(
            f"[data] egress_level = {model.egress_level!r} is no level of the cluster's topology (its levels: "
            f"{', '.join(ix.names[1:])}): egress is priced at its top level, {ix.names[ix.top]!r}"
        )
        lvl = ix.top
    have = sorted({domain_name(lab) for lab in ix.labels[lvl]})
    unknown = sorted(set(model.egress_per_gb) - set(have) - set(ix.labels[lvl]))
    if unknown:
        said.append(
            f"[data] egress_per_gb names {', '.join(map(repr, unknown))}, no {ix.names[lvl]} of the cluster's "
            f"topology (there are {', '.join(have[:8])}): no egress is charged for it"
        )
    return said


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(table: dict[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"[data] {key} must be a whole number >= 0, not {value!r}")
    return value


def _seconds(table: dict[str, Any], key: str, default: float) -> float:
    try:
        if isinstance(table.get(key), bool):  # TOML's true would read as 1 s
            raise TypeError
        value = float(table.get(key, default))
    except (TypeError, ValueError):
        raise ValueError(f"[data] {key} must be a number of seconds, not {table.get(key)!r}") from None
    if not value >= 0:
        raise ValueError(f"[data] {key} must be >= 0, not {value!r}")
    return value


def delay_policy(table: dict[str, Any]) -> tuple[float, bool]:
    """``delay`` (s) and whether ``delay_policy`` is "gated" (wait for data-local nodes only while the predicted
    wait beats the stage-in saved, at most ``delay`` s, default 1800) rather than "plain" (wait ``delay`` s)."""
    policy = table.get("delay_policy", "plain")
    if policy not in ("plain", "gated"):
        raise ValueError(f'[data] delay_policy must be "plain" or "gated", not {policy!r}')
    return _seconds(table, "delay", 0.0), policy == "gated"


def data_table(cluster: Any) -> dict[str, Any] | None:
    """The ``[data]`` table of a cluster file (None without a file or a table): `hal server` enables the data
    plane from it. ValueError naming the file when it cannot be read."""
    import tomllib
    from pathlib import Path

    from hal.textfile import read_text

    if cluster is None:
        return None
    path = Path(cluster)  # a missing file, a folder or Latin-1 text: one line naming it, as load_cluster says it
    text = read_text(path, "cluster file", ValueError, undecodable="not valid TOML")
    try:
        table = tomllib.loads(text).get("data")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    if table is not None and not isinstance(table, dict):
        raise ValueError("[data] in the cluster file must be a table")
    return None if table is None else anchored(table, path.parent)  # relative paths from the file's folder


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*", re.IGNORECASE | re.ASCII)  # "١٠M" is not a size (QA)


def byte_size(size: object) -> int | None:
    """``cache_bytes``: bytes, as a number or text ("1000000"), or with a binary unit ("100K", "500M", "2GiB");
    None when unreadable ("100" read as 100 MiB as text but 100 bytes as a number, and "100K" as 0)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    m = _SIZE.fullmatch(size) if isinstance(size, str) else None
    if m is None:
        return None
    return int(float(m[1]) * 1024 ** "BKMGTP".index((m[2] or "B").upper()))

"""What each value of a cluster file's [[nodes]] and [[partitions]] tables may be: its TOML type and range."""

from __future__ import annotations

import math
import re
from typing import Any

MAX_NODES = 100_000
MAX_CPUS, MAX_GPUS = 100_000, 1_024  # per node: 10^12 CPUs was accepted, and the server ran out of memory
MAX_TIER = 65_533  # Slurm's largest PriorityTier
PREFIX = re.compile(r"[A-Za-z0-9_.-]*")  # a host name's characters: a "," or "[" would make the host lists ambiguous


def is_int(value: Any) -> bool:
    """A TOML integer: not a bool (true read as 1), a float (2.7 cut to 2) or a string."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole(spec: dict[str, Any], key: str, default: int, most: int, per: str = " per node") -> int:
    """A count: a whole number (1.5 CPUs became 1 and true became 1, silently) no larger than ``most``."""
    value = spec.get(key, default)
    if not is_int(value):
        raise ValueError(f"{key} = {value!r}: a whole number")
    if value > most:
        raise ValueError(f"{key} = {value:,}: at most {most:,}{per}")
    return int(value)


def node_count(spec: dict[str, Any]) -> int:
    """``count``: how many nodes ``prefix`` names, 1 to MAX_NODES (10^8 hung `hal cluster show`)."""
    count = whole(spec, "count", 1, MAX_NODES, " nodes")
    if count < 1:
        raise ValueError("count must be >= 1")
    return count


def prefix(spec: dict[str, Any]) -> str:
    """``prefix`` (or ``name``): the nodes are PREFIX000, PREFIX001, ...; checked as ``names`` is, since the names
    go into host lists (``prefix = "rack1,gpu"`` showed its nodes as rack1,gpu[000-001]: two hosts and a list)."""
    key = "prefix" if "prefix" in spec else "name"
    value = spec.get(key, "")
    if not isinstance(value, str) or not PREFIX.fullmatch(value):
        raise ValueError(
            f"{key} = {value!r}: a text of letters, digits, '-', '_' and '.' that the node names start with "
            "(a ',', '[', '/' or space would make host lists such as n[000-003] ambiguous)"
        )
    return value


def mem_value(spec: dict[str, Any]) -> int | str:
    """``mem``: a whole number of MB or a text with a unit; true was read as 1 MB, 1.5 as 2 MB."""
    value = spec.get("mem", 0)
    if not (is_int(value) or isinstance(value, str)):
        raise ValueError(f'mem = {value!r}: a whole number of MB or a text such as "4G" or "512M"')
    return value if isinstance(value, str) else int(value)


def names_list(spec: dict[str, Any], key: str, what: str) -> tuple[str, ...]:
    """``features``, ``partitions``: a list of names; a lone text was read letter by letter ("ib": i and b)."""
    value = spec.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        example = '["ib", "nvme"]' if key == "features" else '["batch", "gpu"]'
        raise ValueError(f"{key} = {value!r}: a list of {what}, e.g. {key} = {example}")
    return tuple(value)


def extras(spec: dict[str, Any]) -> dict[str, int]:
    """``extras``: a table of whole counts (``{ fpga = 2 }``); true was read as 1, "2" as 2."""
    table = spec.get("extras", {})
    if not isinstance(table, dict):
        raise ValueError(f"extras = {table!r}: a table of counts, e.g. extras = {{ fpga = 2 }}")
    bad = next((k for k, v in table.items() if not is_int(v)), None)
    if bad is not None:
        raise ValueError(f"extras {bad} = {table[bad]!r}: a whole number")
    return {str(k): int(v) for k, v in table.items()}


def partition_name(spec: dict[str, Any]) -> str:
    name = spec["name"]
    if not isinstance(name, str) or not name:
        raise ValueError(f"name = {name!r}: a partition's name, a non-empty text")
    return name


def max_time(spec: dict[str, Any]) -> float | None:
    """``max_time``: a limit in seconds, or none when left out; -5 failed every submission with a 500, true was a
    limit of 1 s."""
    value = spec.get("max_time")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"max_time = {value!r}: a number of seconds > 0 (leave it out: no limit)")
    return float(value)


def priority_tier(spec: dict[str, Any]) -> int:
    """``priority_tier``: Slurm's PriorityTier, a whole number from 0 to 65533 (2.9 was read as 2)."""
    value = spec.get("priority_tier", 1)
    if not is_int(value) or not 0 <= value <= MAX_TIER:
        raise ValueError(f"priority_tier = {value!r}: a whole number from 0 to {MAX_TIER} (Slurm's PriorityTier)")
    return int(value)


def flag(spec: dict[str, Any], key: str) -> bool:
    """A TOML true or false: "no" and "false" were both read as true."""
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} = {value!r}: true or false")
    return value


def parse_cpuset(value: Any) -> list[int]:
    """A node group's ``cpuset``, ``"0-3,6"`` or ``[0, 1]``, into host CPU ids; ValueError naming the key when it is
    malformed (a nested list was a TypeError at server start, "0-x" said only "invalid literal for int()", and
    "5-1" was an empty set). Whether the host has these CPUs is checked where jobs run (controller/machine.py)."""
    where = f"cpuset = {value!r}"
    if isinstance(value, list):
        if not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ValueError(f'{where}: a list of CPU ids such as [0, 1], or a string such as "0-3,6"')
        ids = list(value)
    elif isinstance(value, str):
        ids = []
        for part in value.split(","):
            match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if match is None:
                raise ValueError(f"{where}: {part.strip()!r} is not a CPU id or a range such as 0-3")
            lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
            if hi < lo:
                raise ValueError(f"{where}: the range {lo}-{hi} runs backwards (write {hi}-{lo})")
            if hi >= MAX_CPUS:  # before the range is made: "0-9999999999" would take all memory
                raise ValueError(f"{where}: CPU ids run from 0 to {MAX_CPUS - 1:,}")
            ids.extend(range(lo, hi + 1))
    else:
        raise ValueError(f'{where}: a list of CPU ids such as [0, 1], or a string such as "0-3,6"')
    if any(i < 0 or i >= MAX_CPUS for i in ids):
        raise ValueError(f"{where}: CPU ids run from 0 to {MAX_CPUS - 1:,}")
    return ids


LEVEL_BREAKERS = "./,="  # besides whitespace and control characters


def level_names(levels: tuple[str, ...]) -> None:
    """``[topology] levels``: each name is a word. Domains are named ``<level><index>`` and a job's
    SLURM_TOPOLOGY_ADDR joins them with '.', so a '.' in one gave an address with more parts than its pattern (QA:
    "pod.a0.sw0.n000" against "switch.switch.node"); ',' and '=' break --topology required=LEVEL and hal update's
    Key=Value lists, '/' the domain paths `hal nodes` prints, whitespace the options it is typed in."""
    for name in levels:
        bad = next((c for c in name if c in LEVEL_BREAKERS or c.isspace() or not c.isprintable()), None)
        if bad is not None:
            raise ValueError(
                f"level name {name!r} contains {bad!r}: a level is named by a word without '.', '/', ',', '=', "
                "spaces or control characters (SLURM_TOPOLOGY_ADDR joins domain names with '.')"
            )

"""What names a copy's location in the catalog: a plain name (origin, mirror) or level=label of the cluster's
tree (site=cloud, rack=r1). One rule for `hal dataset add --location`, `add-copy` and [data] output_location."""

from __future__ import annotations

import re
from typing import Any

LOCATION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(=[A-Za-z0-9_][A-Za-z0-9_.-]*)?")


def bad_location(where: object, said: str) -> str | None:
    """Why ``where`` cannot name a location (it goes in catalog files, logs and URLs; QA: `..` and `rack 1/x` were
    taken, and the copy could never be removed), after ``said``; None when it can."""
    if isinstance(where, str) and LOCATION.fullmatch(where) and len(where) <= 200:
        return None
    return f"{said}: a location is a name or level=label of letters, digits, '_', '-' and '.'"


def unknown_domain(topo: Any, where: str, said: str) -> str | None:
    """Why ``level=label`` names no domain of the cluster's topology (QA: rack=y on a cluster of switches was
    taken, and the placement score never saw the copy); a plain name is the site's own and taken as it is."""
    level, sep, label = where.partition("=")
    if not sep:
        return None
    levels = tuple(topo.levels) if topo is not None else ()
    if level not in levels:
        have = f"its levels are {', '.join(levels)}" if levels else "it has no topology"
        return f"{said}: the cluster has no level {level!r} ({have}); or give a plain name"
    labels = sorted({path[levels.index(level)] for path in topo.paths})
    if label not in labels:
        shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        return f"{said}: no {level} is named {label!r} (there are {shown})"
    return None

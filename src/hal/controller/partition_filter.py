"""squeue -p's match on the stored partition column, which holds a pending job's whole list (``debug,batch``: the
partitions whose limits admit it) and a running job's one partition. Slurm lists a pending job under every
partition of its list, so a name matches when it is one of the comma-separated items, not the whole string."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement


def in_partitions(column: sa.Column[str], names: str | Sequence[str]) -> ColumnElement[bool]:
    """True for a row whose list holds any of ``names``: ``,name,`` inside ``','||column||','`` (SQLite and
    PostgreSQL both concatenate with ||; autoescape keeps a ``_`` or ``%`` in a name literal in the LIKE)."""
    wrapped = sa.literal(",") + column + sa.literal(",")
    wanted = [names] if isinstance(names, str) else list(names)
    return sa.or_(*(sa.or_(column == n, wrapped.contains(f",{n},", autoescape=True)) for n in wanted))

"""squeue -p's match on the stored partition column, which holds a pending job's whole list (``debug,batch``: the
partitions whose limits admit it) and a running job's one partition. Slurm lists a pending job under every
partition of its list, so a name matches when it is one of the comma-separated items, not the whole string. The
test is a case-sensitive substring position (SQLite's instr, PostgreSQL's strpos), not LIKE: SQLite's LIKE
ignores ASCII case, so ``-p BATCH`` matched ``batch`` there and nothing on PostgreSQL (review)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class position(FunctionElement[int]):  # an SQL function, named as one
    """1-based position of the second argument inside the first, 0 when absent; case-sensitive on both."""

    type = sa.Integer()
    inherit_cache = True


@compiles(position)
def _strpos(element: position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(position, "sqlite")
def _instr(element: position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


def in_partitions(column: sa.Column[str], names: str | Sequence[str]) -> ColumnElement[bool]:
    """True for a row whose list holds any of ``names``: ``,name,`` inside ``','||column||','`` (SQLite and
    PostgreSQL both concatenate with ||)."""
    wrapped = sa.literal(",") + column + sa.literal(",")
    wanted = [names] if isinstance(names, str) else list(names)
    return sa.or_(*(sa.or_(column == n, position(wrapped, sa.literal(f",{n},")) > 0) for n in wanted))

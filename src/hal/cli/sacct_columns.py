"""sacct's fixed-width columns for `hal history`: one line per job in a terminal or a pipe, whatever it holds.

Each field has sacct's default width (``NAME%N`` sets another; a negative N left-aligns); a value wider than its
column is cut and its last character becomes ``+``, as sacct marks it, never folded onto more lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

# sacct's default width of each field HAL lists (its spelling is the header): positive right-aligns, negative
# left-aligns, as sacct's own table has them
WIDTHS = {
    "JobID": -12, "JobIDRaw": -12, "JobName": 10, "Partition": 10, "Account": 10, "User": 9, "AllocCPUS": 10,
    "State": 10, "ExitCode": 8, "Elapsed": 10, "Timelimit": 10, "Submit": 19, "Start": 19, "End": 19,
    "NodeList": 15, "MaxRSS": 10, "TotalCPU": 10, "ReqCPUS": 8, "ReqMem": 10, "Restarts": 8, "Reason": 22,
    "QOS": 10, "ReqTRES": 10, "AllocTRES": 10, "NNodes": 8, "NTasks": 8, "WorkDir": 20, "Comment": 14,
    "CPUTime": 10, "CPUTimeRAW": 10, "ElapsedRaw": 10, "NCPUS": 10, "TimelimitRaw": 10, "Eligible": 19,
    "DerivedExitCode": 15,
}  # fmt: skip
SPELLING = {name.lower(): name for name in WIDTHS}
_WIDTH = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Column:
    key: str  # the field's name in lower case
    title: str  # sacct's spelling, for the header
    width: int  # characters; negative: left-aligned


def parse_columns(fmt: str) -> list[Column]:
    """``--format`` as columns: ``JobName``, ``JobName%30`` (right-aligned) or ``JobName%-30`` (left-aligned).
    A width that is not a whole number above 0 raises ValueError saying so (it was ignored)."""
    cols = []
    for spec in (c.strip() for c in fmt.split(",")):
        if not spec:
            continue
        name, cut, given = spec.partition("%")
        title = SPELLING.get(name.lower(), name)
        width = WIDTHS.get(title, 10)
        if cut:
            if not _WIDTH.fullmatch(given) or int(given) == 0:
                raise ValueError(
                    f"{spec!r}: the width after % is a whole number of characters, "
                    f"e.g. {title}%30 (right-aligned) or {title}%-30 (left-aligned)"
                )
            width = int(given)
        cols.append(Column(name.lower(), title, width))
    return cols


def _fit(text: str, width: int, mark: str) -> str:
    """``text`` padded to ``abs(width)`` cells, or cut to them with ``mark`` as its last character."""
    size = abs(width)
    if cell_len(text) > size:
        text = set_cell_size(text, size - len(mark)) + mark
    pad = " " * (size - cell_len(text))
    return text + pad if width < 0 else pad + text


def render(cols: Sequence[Column], rows: Sequence[Sequence[str]], header: bool = True) -> str:
    """The table as sacct prints it: the header and a line of dashes (unless ``header`` is false), then one line
    per row; values cut to their column end in ``+`` (a header is cut without one, as sacct cuts it)."""
    lines = []
    if header:
        lines.append(" ".join(_fit(c.title, c.width, "") for c in cols))
        lines.append(" ".join("-" * abs(c.width) for c in cols))
    for row in rows:
        lines.append(" ".join(_fit(value, c.width, "+") for c, value in zip(cols, row, strict=True)))
    return "\n".join(line.rstrip() for line in lines)

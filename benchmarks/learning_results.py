"""Writes one section of benchmarks/results/learning.md, leaving the other scripts' sections in place."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "learning.md"
TRACES = REPO.parent / "shared" / "traces"
TITLE = "# Learned runtime predictions, tuned queue policies and start-time estimates (issue 3)\n"
# The five archive traces of the issue; Philly (no user estimates, no users) is reported where it applies.
HPC_TRACES = {
    "SDSC-SP2": "SDSC-SP2-1998-4.2-cln.swf",
    "CTC-SP2": "CTC-SP2-1996-3.1-cln.swf",
    "KTH-SP2": "KTH-SP2-1996-2.1-cln.swf",
    "HPC2N": "HPC2N-2002-2.2-cln.swf",
    "SDSC-BLUE": "SDSC-BLUE-2000-4.2-cln.swf",
}
PHILLY = ("Philly", "ai/swf/philly_2017_pollux_jobs.swf")


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section delimited by markers named ``name``."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else TITLE
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def previous_rows(name: str, key_cells: int = 1) -> dict[str, str]:
    """Table rows already in a section, by their first cell, so a run on some traces keeps the others."""
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text(encoding="utf-8")
    match = re.search(re.escape(f"<!-- {name} -->") + r"(.*?)" + re.escape(f"<!-- /{name} -->"), text, re.S)
    rows: dict[str, str] = {}
    for line in (match.group(1) if match else "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells and not cells[0].startswith("-") and cells[0] != "trace":
            rows[" | ".join(cells[:key_cells])] = line
    return rows

"""The simulator's topology table prints no share or average of zero multi-node jobs, as its JSON gives null."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from hal.cli.sim_tables import topology_table
from hal.sim.topo_metrics import TopoSummary


def _row(table: Table) -> list[str]:
    """The table's one body row, cell by cell."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    body = [line for line in console.export_text().splitlines() if line.startswith("│")]
    assert len(body) == 1, body
    return [cell.strip() for cell in body[0].split("│")[1:-1]]


def _summary(multi: int, share: float, leaves: float) -> TopoSummary:
    return TopoSummary(
        jobs=5, multi_node=multi, fewest_leaf_share=share, one_domain_share=share, avg_leaves=leaves,
        avg_level=leaves, avg_wait=1.0, avg_bsld=1.0, useful_utilization=0.057, makespan=100.0, avg_fragmentation=0.17,
    )  # fmt: skip


def test_no_multi_node_job_prints_dashes_not_100_percent_and_0_leaves() -> None:
    """QA L4: '0 | 100.0% | 100.0% | 0.00 | 0.00' while the summary JSON had null for the four."""
    assert _row(topology_table(_summary(0, 1.0, 0.0))) == ["0", "-", "-", "-", "-", "0.17", "0.057"]


def test_multi_node_jobs_still_print_their_figures() -> None:
    assert _row(topology_table(_summary(3, 2 / 3, 1.5))) == ["3", "66.7%", "66.7%", "1.50", "1.50", "0.17", "0.057"]

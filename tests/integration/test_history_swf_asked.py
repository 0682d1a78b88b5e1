"""`hal history --swf` on a real server: a --time-min job backfill cut (and killed at the cut) is exported with the
--time its user asked for as SWF's Requested Time, not the scheduler's cut, so a replay of the site's history plans
it as users asked; its record says both (time_lowered, time_asked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.sim.swf import read_swf
from tests.integration.livekit import LiveServer, serve_cluster, until_state

CLUSTER = """name = "swfasked"
[[nodes]]
prefix = "t"
count = 2
cpus = 2
mem = "1G"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "swfasked", CLUSTER)


def submit(server: LiveServer, wrap: str, **options: str | int | bool) -> str:
    with server.client() as c:
        return str(c.submit(wrap=wrap, options={k.replace("_", "-"): v for k, v in options.items()})["job_id"])


def test_a_cut_job_is_exported_with_the_time_it_asked_for(server: LiveServer, tmp_path: Path) -> None:
    first = submit(server, "sleep 60", ntasks=2, time="0:08")  # one node, killed at 8 s
    until_state(server, first, "RUNNING")
    head = submit(server, "true", nodes=2, exclusive=True, time="0:30")  # both nodes, after it
    cut = submit(server, "sleep 60", ntasks=2, time="10:00", time_min="0:03")
    limit = until_state(server, cut, "RUNNING")["time_limit"]
    assert 3 <= limit <= 8
    until_state(server, cut, "TIMEOUT", timeout=40.0)  # killed at the cut
    until_state(server, head, "COMPLETED", timeout=40.0)
    trace = tmp_path / "site.swf"
    server.cli("history", "-a", "--swf", str(trace), check=True)
    recs = {r.job_id: r for r in read_swf(trace).records}
    assert recs[int(cut)].req_time == 600  # what the user asked, not the cut
    assert (recs[int(first)].req_time, recs[int(head)].req_time) == (8, 30)
    with server.client() as c:
        rec = c.get(cut)
    assert (rec["time_limit"], rec["time_lowered"], rec["time_asked"]) == (limit, True, 600.0)

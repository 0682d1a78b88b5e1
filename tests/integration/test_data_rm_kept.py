"""`hal dataset rm-kept JOB` on a real server: a failed stage-out's output, kept in the node cache for
``keep_failed_outputs`` (7 days), is removed now by its job's user (another user is refused, as is a job that has not
ended), the removal is recorded on the job, and a second call says there is nothing kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import EXAMPLE, LiveServer, finished, submit

WRITE = '#!/bin/sh\necho "the only copy" > "$HAL_DATA/r"\n'


def _said(done: object) -> str:
    return " ".join(f"{done.stdout} {done.stderr}".split())  # type: ignore[attr-defined]


def test_a_kept_output_is_removed_by_its_user_and_the_removal_recorded(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n'
                       f'catalog = "{tmp_path}/catalog.json"\nattempts = 1\nbackoff = 0.01\n'
                       f'output_uri = "{tmp_path}/taken/{{name}}"\n')  # fmt: skip
    (tmp_path / "taken" / "r").mkdir(parents=True)  # a folder where the output would go: its stage-out fails
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        bob = live.new_user("bob")
        job = submit(live, script=WRITE, output_data="r")
        assert finished(live, job) == "FAILED"
        (kept,) = (tmp_path / "cache").glob(f"*/.jobs/{job}/r")
        node = kept.parents[2].name
        running = submit(live, "sleep 30", output_data="q")
        refused = live.cli("dataset", "rm-kept", running)
        assert refused.returncode == 1 and f"job {running} has not ended" in _said(refused), _said(refused)
        live.cli("cancel", running, check=True)
        theirs = live.cli("dataset", "rm-kept", job, token=bob)
        assert theirs.returncode == 1 and "belongs to another user" in _said(theirs), _said(theirs)
        assert kept.read_text() == "the only copy\n"
        done = live.cli("dataset", "rm-kept", job, check=True)
        assert f"job {job}: removed {node}:r" in _said(done) and not kept.parent.exists()
        shown = json.loads(live.cli("show", job, "--json", check=True).stdout)
        assert "(removed by root with hal dataset rm-kept)" in json.dumps(shown), shown
        again = live.cli("dataset", "rm-kept", job)
        assert again.returncode == 1 and f"job {job} has no failed output kept" in _said(again), _said(again)
    finally:
        live.stop()

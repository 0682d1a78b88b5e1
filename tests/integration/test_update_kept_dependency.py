"""`hal update READER Dependency=` on a job that reads a dataset a queued job will write: the implicit afterok on that
writer stays (the reader must not start before its data exists), and the reply now says so (QA: it said "updated
... Dependency=" and the job went on waiting for a job the user had just removed from its list)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import EXAMPLE, LiveServer, show, submit


def test_an_update_says_the_writer_of_an_input_is_still_waited_for(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n'
                       f'catalog = "{tmp_path}/catalog.json"\noutput_uri = "{tmp_path}/out/{{name}}"\n')  # fmt: skip
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        writer = submit(live, "sleep 30", output_data="made", hold=True)
        other = submit(live, "true", hold=True)
        reader = submit(live, "true", input_data="made", dependency=f"afterany:{other}")
        done = live.cli("update", reader, "Dependency=")
        said = " ".join(done.stderr.split())
        assert done.returncode == 0 and f"updated job {reader}: Dependency=" in done.stdout, done
        assert f"note: job {reader} still waits for job {writer} (afterok): it writes dataset 'made'" in said, said
        assert show(live, reader)["reason"] == "Dependency"
        typed = live.cli("update", reader, f"Dependency=afterok:{writer}", "--json", check=True)
        assert json.loads(typed.stdout)["notes"] == []  # asked for: nothing kept unsaid
        plain = json.loads(live.cli("update", other, "Nice=5", "--json", check=True).stdout)
        assert plain == {"updated": [int(other)], "failed": {}, "notes": []}
    finally:
        live.stop()

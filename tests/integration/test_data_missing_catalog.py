"""A real server restarted with its catalog file moved away (QA): the log warns naming the file, the cached copy is
kept, and a held job reading the dataset stays PENDING (UnknownDataset) when released instead of failing "stage-in
failed: unknown dataset 'd4'", and runs once `hal dataset add` registers the dataset again."""

from __future__ import annotations

from pathlib import Path

from tests.integration.livekit import EXAMPLE, LiveServer, finished, show, submit


def test_a_restart_without_its_catalog_keeps_the_cache_and_the_readers_wait(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    cluster = tmp_path / "c.toml"
    cluster.write_text(
        EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncache_bytes = "6M"\n'
        f'catalog = "{catalog}"\noutput_uri = "{tmp_path}/results/{{job}}/{{name}}"\n'
    )
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        (tmp_path / "d4").write_bytes(b"z" * 300_000)
        with live.client() as c:  # the SDK: `hal dataset add` is not the subject
            c.add_dataset("d4", str(tmp_path / "d4"), "origin")
        assert finished(live, submit(live, 'test -s "$HAL_DATA/d4"', input_data="d4")) == "COMPLETED"
        (copy,) = (tmp_path / "cache").glob("*/d4")  # the copy its stage-in left in its node's cache
        job = submit(live, 'wc -c < "$HAL_DATA/d4"', hold=True, input_data="d4", output="j.out")
        live.stop()  # SIGTERM
        catalog.rename(tmp_path / "catalog.json.bak")
        live.start()
        said = live.log.read_text()
        assert f"WARNING catalog {catalog} does not exist" in said and "the node caches hold d4" in said, said
        assert copy.stat().st_size == 300_000  # kept: it was deleted ("dropped: 1" at INFO)
        with live.client() as c:
            assert c.release(job) == [int(job)]  # it FAILED: "stage-in failed: unknown dataset 'd4'"
        shown = " ".join(live.cli("show", job, check=True).stdout.split())
        assert "JobState=PENDING" in shown and "Reason=UnknownDataset" in shown, shown
        assert "registers it again (hal dataset add" in shown, shown
        with live.client() as c:  # registered again: the job is tried again and reads the kept copy
            c.add_dataset("d4", str(tmp_path / "d4"), "origin")
        assert finished(live, job) == "COMPLETED", show(live, job)
        assert (live.work / "j.out").read_text().strip() == "300000"
        assert "Traceback" not in live.log.read_text()
    finally:
        live.stop()

"""The live data plane when storage misbehaves (QA, issue 6): a node whose cache folder broke is drained instead
of failing every job sent to it, and a catalog that cannot be saved refuses `hal dataset add` with the reason,
leaving nothing half-registered; an input no cache can hold fails its reader at once."""

from __future__ import annotations

import contextlib
import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from hal.controller.directives import build_request
from tests.integration.livekit import LiveServer
from tests.integration.test_data_restart import _cluster, _row
from tests.integration.test_data_stage_out import _controller, _over, _until


@contextlib.contextmanager
def _data_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A real server with a data plane, and a small file to register as a dataset."""
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    src = tmp_path / "ref.txt"
    src.write_text("reference\n")
    try:
        yield live, src
    finally:
        live.stop()


def test_a_node_whose_cache_broke_is_drained_and_its_job_runs_elsewhere(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    try:
        first = live.cli("submit", "--parsable", "--wrap", "true", check=True).stdout.strip()
        assert live.cli("wait", first, "--timeout", "60").returncode == 0
        broken = str(_row(live, first)["nodelist"])  # the node plain jobs go to first
        cache = tmp_path / "cache" / broken
        shutil.rmtree(cache)
        cache.write_text("not a folder")  # the cache folder replaced by a file while the server runs
        job = live.cli("submit", "--parsable", "-o", "j.out", "--wrap", "echo ran", check=True).stdout.strip()
        assert live.cli("wait", job, "--timeout", "60").returncode == 0
        row = _row(live, job)
        assert row["state"] == "COMPLETED" and row["restarts"] == 0 and row["nodelist"] != broken, row
        assert (live.work / "j.out").read_text() == "ran\n"
        reasons = live.cli("nodes", "-R", check=True).stdout
        assert (
            broken in reasons
            and "data cache unusable" in reasons
            and "a file stands where the cache folder was" in reasons
        ), reasons
    finally:
        live.stop()


def test_a_cache_broken_under_a_cached_input_drains_the_node_and_the_job_is_not_stranded(tmp_path: Path) -> None:
    """QA: the cached copy's check raised NotADirectoryError in the controller's loop; the job stayed RUNNING with
    nothing running, hal cancel could not end it, and the node stayed in service."""
    live = LiveServer(tmp_path, cluster=_cluster(tmp_path, data=True))
    live.start()
    try:
        src = tmp_path / "d2.txt"
        src.write_text("data\n")
        live.cli("dataset", "add", "d2", str(src), check=True)
        first = live.cli("submit", "--parsable", "--input-data=d2", "--wrap", "true", check=True).stdout.strip()
        assert live.cli("wait", first, "--timeout", "60").returncode == 0
        node = str(_row(live, first)["nodelist"])  # d2 is cached there now
        cache = tmp_path / "cache" / node
        shutil.rmtree(cache)
        cache.write_text("not a folder")
        job = live.cli("submit", "--parsable", "--input-data=d2", "-o", "k.out", "--wrap", "cat $HAL_DATA/d2",
                       check=True).stdout.strip()  # fmt: skip
        assert live.cli("wait", job, "--timeout", "60").returncode == 0
        row = _row(live, job)
        assert row["state"] == "COMPLETED" and row["nodelist"] != node, row
        assert (live.work / "k.out").read_text() == "data\n"
        assert node in live.cli("nodes", "-R", check=True).stdout
    finally:
        live.stop()


def test_a_catalog_that_cannot_be_saved_refuses_the_dataset_and_keeps_nothing(tmp_path: Path) -> None:
    with _data_server(tmp_path) as (live, src):
        live.cli("dataset", "add", "ok", str(src), check=True)
        catalog = tmp_path / "catalog.json"
        assert stat.S_IMODE(catalog.stat().st_mode) == 0o600  # URIs may hold credentials
        (tmp_path / "catalog.tmp").mkdir()  # where the next save writes: it fails as a full disk would
        res = live.cli("dataset", "add", "ref", str(src))
        said = res.stdout + res.stderr
        assert res.returncode != 0 and str(catalog) in said and "Is a directory" in said, said
        listed = json.loads(live.cli("dataset", "list", "--json", check=True).stdout)
        assert [d["name"] for d in listed["datasets"]] == ["ok"]  # not registered in memory either
        (tmp_path / "catalog.tmp").rmdir()
        live.cli("dataset", "add", "ref", str(src), check=True)  # the name was not left taken
        names = [d["name"] for d in json.loads(catalog.read_text())["datasets"]]
        assert sorted(names) == ["ok", "ref"]


def test_adding_a_dataset_a_queued_job_will_write_names_that_job(tmp_path: Path) -> None:
    with _data_server(tmp_path) as (live, src):
        write = 'echo x > "$HAL_DATA/res"'
        job = live.cli("submit", "--parsable", "-H", "--output-data=res", "--wrap", write, check=True).stdout.strip()
        res = live.cli("dataset", "add", "res", str(src))
        said = res.stdout + res.stderr
        assert res.returncode != 0 and f"job {job} (user " in said and "--output-data" in said, said


def test_an_input_larger_than_every_cache_fails_its_reader_at_once(tmp_path: Path) -> None:
    """Its size known only at stage-in (another job wrote it), an input larger than every node cache was retried
    as a storage hiccup: held a minute, then two, and only then failed (QA, issue 6)."""
    ctl, staging = _controller(tmp_path)  # 4 MiB caches
    staging.requeue_wait = 600.0
    write = '#!/bin/sh\nhead -c 5000000 /dev/zero > "$HAL_DATA/big"\n'
    ctl.start()
    try:
        (writer,) = ctl.submit(build_request(write, {"output-data": "big"}, {}, str(tmp_path), 0), "al").job_ids
        read = "#!/bin/sh\ntrue\n"
        (reader,) = ctl.submit(build_request(read, {"input-data": "big"}, {}, str(tmp_path), 0), "al").job_ids
        _until(_over(ctl, reader))
    finally:
        ctl.stop()
        staging.shutdown()
    assert (ctl.store.get(writer) or {}).get("state") == "COMPLETED"  # published at its destination, not cached
    row = ctl.store.get(reader) or {}
    assert row["state"] == "FAILED" and row["restarts"] == 0, row
    assert "dataset 'big' (5,000,000 bytes) is larger than every node cache (4,194,304 bytes)" in row["cause"]

"""One node's cache folder the server cannot use at start drains that node with the OS's own error, and the server
serves with the others (QA: a read-only cache disk on one node stopped `hal server`, saying "Permission denied"
for EROFS). Tests run as root, where chmod does not refuse: the cache path's parent is a regular file, a real
ENOTDIR. A restart also says each replica whose cached file was deleted while no server ran (QA: it said
'dropped': 0 and nothing else). Real servers, controllers and files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.drain import resume
from hal.data.cache_roots import check_roots
from tests.clusters import switch_tree
from tests.integration.livekit import LiveServer, finished, nodes, show, submit
from tests.integration.test_data_live import _wait, data_controller


def test_the_server_starts_and_drains_only_the_node_whose_cache_cannot_be_used(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    data = f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}/data"\ncatalog = "{tmp_path}/cat.json"\n'
    cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + data)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "vn001").write_text("not a folder")  # vn001's cache folder cannot be made in it
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        states = nodes(live)
        drained = {name: n for name, n in states.items() if "drain" in str(n.get("state", "")).lower()}
        assert list(drained) == ["vn001"], states
        said = " ".join(str(drained["vn001"]).split())
        assert "data cache unusable" in said and "Not a directory" in said and f"{tmp_path}/cache/vn001/data" in said
        job = submit(live, "true")  # the other node works
        assert finished(live, job) == "COMPLETED" and show(live, job)["nodelist"] == "vn000"
    finally:
        live.stop()
    log = live.log.read_text()
    assert "vn001" in log and "Not a directory" in log


def test_a_cache_dir_no_node_can_use_still_refuses_the_start(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    (tmp_path / "afile").write_text("x")
    cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + f'\n[data]\ncache_dir = "{tmp_path}/afile/{{node}}"\n')
    live = LiveServer(tmp_path, cluster=cluster)
    with pytest.raises(RuntimeError, match="Not a directory"):
        live.start(timeout=60)


def test_an_in_process_start_drains_the_node_and_a_stage_in_there_fails_with_the_real_error(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "vn001").write_text("x")  # vn001's folder is tmp/cache/vn001: a file stands there
    ctl, staging = data_controller(tmp_path, {"catalog": str(tmp_path / "cat.json")})
    try:
        assert set(ctl.drained) == {"vn001"}, ctl.drained
        assert "data cache unusable" in ctl.drained["vn001"]["reason"]
        assert "a file stands where its folder should be" in ctl.drained["vn001"]["reason"]
        (tmp_path / "in").write_text("data")
        staging.stager.catalog.register_file("in", str(tmp_path / "in"))
        with pytest.raises(OSError, match="File exists"):
            staging.stager.stage_in(7, ("in",), ["vn001"])
        assert [s.node for s in staging.stager.stage_in(8, ("in",), ["vn000"])] == ["vn000"]
    finally:
        staging.shutdown()


def test_a_restart_says_and_counts_each_replica_whose_cached_file_went_while_no_server_ran(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = str(tmp_path / "cat.json")
    _, staging = data_controller(tmp_path, {"catalog": catalog})
    (tmp_path / "in").write_text("data")
    staging.stager.catalog.register_file("in", str(tmp_path / "in"))
    staging.stager.stage_in(1, ("in",), ["vn001"])
    staging.stager.release(1)
    staging.shutdown()
    (tmp_path / "cache" / "vn001" / "in").unlink()  # while no server runs
    caplog.set_level(logging.WARNING, logger="hal.data")
    again, resumed = data_controller(tmp_path, {"catalog": catalog})
    try:
        counts = resumed.resume(again, since=0.0)
        assert counts["missing"] == 1, counts
        said = [r.getMessage() for r in caplog.records if "'in'" in r.getMessage() and "vn001" in r.getMessage()]
        assert said and "deleted while no server ran" in said[0], said
        assert "vn001" not in resumed.stager.catalog.replicas.get("in", {})
        script = f'#!/bin/sh\ncat "$HAL_DATA/in" > "{tmp_path / "got"}"\n'
        again.start()
        (job,) = again.submit(build_request(script, {"input-data": "in"}, {}, str(tmp_path), 0), "al").job_ids
        _wait(again, [job])
    finally:
        again.stop()
        resumed.shutdown()
    assert (tmp_path / "got").read_text() == "data"


def test_a_folder_fixed_after_start_serves_again_once_the_node_is_resumed(tmp_path: Path) -> None:
    """The cache-folder watcher's pass (``check_roots``) opens a folder unusable since start once it works; the
    node's drain stays until an administrator resumes it, as Slurm's does."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "vn001").write_text("x")
    ctl, staging = data_controller(tmp_path, {"catalog": str(tmp_path / "cat.json")})
    try:
        cache = staging.stager.caches["vn001"]
        check_roots(staging, ctl)  # still broken: nothing changes
        assert cache.fault is not None and "vn001" in ctl.drained
        (tmp_path / "cache" / "vn001").unlink()  # fixed
        check_roots(staging, ctl)
        assert cache.fault is None and "vn001" in ctl.drained  # usable again; drained until resumed
        resume(ctl, "vn001", Identity("root", True))
        (tmp_path / "in").write_text("data")
        staging.stager.catalog.register_file("in", str(tmp_path / "in"))
        assert [s.node for s in staging.stager.stage_in(7, ("in",), ["vn001"])] == ["vn001"]
        assert (tmp_path / "cache" / "vn001" / "in").read_text() == "data"
    finally:
        staging.shutdown()

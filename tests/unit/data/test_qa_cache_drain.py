"""A multi-node job one of whose nodes other than its first has an unusable cache (a file where its folder was)
drains that node, with the reason, and goes back to the queue to run elsewhere (QA HIGH-1: it drained the job's
first node, a healthy one, and the broken node stayed in service, attracting the next job)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hal.controller.directives import build_request
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller

FOUR = cluster_toml(name="c", nodes=4, cpus=2, mem="1G")


def _with_data(tmp: Path) -> str:
    return FOUR + f'[data]\ncache_dir = "{tmp}/cache/{{node}}"\ncache_bytes = "4M"\ncatalog = "{tmp}/cat.json"\n'


def _submit(ctl: Any, tmp: Path, **options: str) -> int:
    req = build_request("#!/bin/sh\nsleep 30\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "alice").job_ids[0])


def _break(tmp: Path, node: str) -> Path:
    cache = tmp / "cache" / node
    shutil.rmtree(cache, ignore_errors=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("not a folder")  # the cache folder replaced by a file while the server runs
    return cache


def test_the_node_whose_cache_failed_is_drained_not_the_jobs_first(tmp_path: Path) -> None:
    with controller(tmp_path, _with_data(tmp_path)) as ctl:
        first, second = ctl.table.names[:2]
        cache = _break(tmp_path, second)
        job = _submit(ctl, tmp_path, nodes="2", nodelist=f"{first},{second}", time="5")
        ctl.run_cycle()
        drained = ctl.store.drained()
        assert set(drained) == {second}, drained  # the broken node, not the job's first (healthy) node
        reason = str(drained[second]["reason"])
        assert "data cache unusable" in reason and f"node {second}'s cache" in reason and str(cache) in reason
        rec = ctl.store.get(job) or {}
        assert ctl.live[job].state == "PENDING" and rec["state"] == "PENDING" and rec["restarts"] == 0, rec
        assert second in str(rec["cause"]) and "requeued" in str(rec["cause"])
        plain = _submit(ctl, tmp_path, nodes="2", time="5")  # free to go elsewhere: it runs on healthy nodes
        ctl.run_cycle()
        assert ctl.live[plain].state == "RUNNING"
        assert second not in str((ctl.store.get(plain) or {})["nodelist"])
        assert set(ctl.store.drained()) == {second}  # nothing else drained by it


def test_an_error_naming_no_cache_of_the_job_drains_no_node(tmp_path: Path) -> None:
    """An OSError out of the launch step that no node's cache raised: the job's stage-in fails (requeued with the
    reason, an attempt used), and no healthy node is taken out of service for it."""
    with controller(tmp_path, _with_data(tmp_path)) as ctl:
        staging = ctl.staging

        def env(nodes: list[str], job_id: int) -> dict[str, str]:
            raise PermissionError(13, "Permission denied", str(tmp_path / "elsewhere"))

        staging.stager.env = env  # a real OSError from a step after the caches were found usable
        job = _submit(ctl, tmp_path, nodes="2", time="5")
        ctl.run_cycle()
        assert ctl.store.drained() == {}
        rec = ctl.store.get(job) or {}
        assert rec["state"] == "PENDING" and "stage-in failed" in str(rec["cause"]), rec

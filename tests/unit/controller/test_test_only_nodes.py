"""sbatch --test-only names the nodes the job would start on: 'Job 13 to start at ... using 6 processors on nodes
gpu[01-06] in partition gpu' (QA: HAL's line had no 'on nodes', though the planner knows them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hal.api.server import ServerOptions, build
from hal.cli.submit import _tested
from hal.controller.directives import build_request
from hal.controller.testonly import test_only as will_run

CLUSTER = (
    'name = "g"\n[[nodes]]\nnames = "gpu[01-08]"\ncpus = 1\nmem = "1G"\npartitions = ["gpu"]\n'
    '[[partitions]]\nname = "gpu"\ndefault = true\n'
)


@contextmanager
def controller(tmp: Path) -> Iterator[Any]:
    (tmp / "c.toml").write_text(CLUSTER)
    ctl, _app, store, executor = build(ServerOptions(home=tmp / "home", executor="dev", cluster=tmp / "c.toml"))
    try:
        yield ctl
    finally:
        executor.shutdown()
        store.close()


def request(tmp: Path, **options: str) -> Any:
    return build_request("#!/bin/sh\ntrue\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)


def test_the_nodes_a_job_would_start_on_are_named(tmp_path: Path) -> None:
    with controller(tmp_path) as ctl:
        assert will_run(ctl, request(tmp_path, ntasks="6", time="10"), "root")["nodes"] == "gpu[01-06]"
        runner = ctl.submit(request(tmp_path, nodelist="gpu[03-04]", ntasks="2", time="10"), "root").job_ids[0]
        ctl.run_cycle()
        assert ctl.live[runner].state == "RUNNING"
        fits = will_run(ctl, request(tmp_path, ntasks="6", time="10"), "root")
        assert fits["nodes"] == "gpu[01-02,05-08]"  # the free ones, now
        later = will_run(ctl, request(tmp_path, ntasks="8", time="10"), "root")
        assert later["nodes"] == "gpu[01-08]"  # where it fits once the runner ends: every node
        held = will_run(ctl, request(tmp_path, ntasks="1", hold="true"), "root")
        assert held["nodes"] is None  # a held job has no start, nor nodes
        assert ctl.live[runner].state == "RUNNING" and len(ctl.live) == 1  # nothing was submitted or started


def test_the_line_says_on_nodes_as_sbatch_does(capsys: pytest.CaptureFixture[str]) -> None:
    done = {"job_id": 13, "start": 1.7e9, "start_p90": None, "cpus": 6, "nodes": "gpu[01-06]", "partition": "gpu"}
    _tested(done, json_out=False)
    said = " ".join(capsys.readouterr().err.split())
    assert "Job 13 to start at " in said and "using 6 processors on nodes gpu[01-06] in partition gpu;" in said
    _tested({**done, "nodes": None}, json_out=False)
    assert "using 6 processors in partition gpu;" in " ".join(capsys.readouterr().err.split())

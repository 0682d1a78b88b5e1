"""hal show and hal update quote times as scontrol does (RunTime=00:00:02 TimeLimit=00:59:52 TimeMin=00:05:00,
1-00:00:00 with days); they printed squeue's short TIME format (0:02, 59:52), which scontrol never prints. squeue's
TIME and TIME_LIMIT columns keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.api.server import ServerOptions, build
from hal.cli import show as show_cli
from hal.cli import squeue_format
from hal.controller.contracts import SubmitError
from hal.controller.directives import build_request
from hal.controller.option_values import scontrol_time
from hal.controller.update import update
from tests.unit.cli.test_show import JOB
from tests.unit.controller.topokit import ADMIN


def test_scontrol_time_format() -> None:
    assert [scontrol_time(s) for s in (0, 2, 3592, 3600, 86399, 86400, 90061)] == [
        "00:00:00", "00:00:02", "00:59:52", "01:00:00", "23:59:59", "1-00:00:00", "1-01:01:01",
    ]  # fmt: skip
    assert scontrol_time(None) == "UNLIMITED"


def test_show_prints_run_time_limit_and_minimum_as_scontrol() -> None:
    said = "\n".join(show_cli._lines({**JOB, "elapsed": 2.0, "time_limit": 3592.0, "time_min": 300.0}))
    assert "   RunTime=00:00:02 TimeLimit=00:59:52 TimeMin=00:05:00" in said, said
    said = "\n".join(show_cli._lines({**JOB, "elapsed": 90061.0, "time_limit": None}))
    assert "   RunTime=1-01:01:01 TimeLimit=UNLIMITED TimeMin=N/A" in said, said
    switches = {"placement_request": {"switches": 1, "switches_wait": 604800.0, "switches_wait_effective": 300.0}}
    assert "Switches=1@7-00:00:00 (waits at most 00:05:00)" in "\n".join(show_cli._lines({**JOB, **switches}))
    row = {"id": "7", "job_id": 7, "state": "RUNNING", "elapsed": 2.0, "time_limit": 3592.0}
    assert squeue_format.render("%M %l", row) == "0:02 59:52"  # squeue's own format stays


def test_update_quotes_time_min_and_limit_as_scontrol(tmp_path: Path) -> None:
    """QA: `hal update 7 TimeLimit=1:00:00` on a --time-min=1-0 job said TimeMin=24:00:00 exceeds TimeLimit=1:00:00."""
    (tmp_path / "c.toml").write_text('name = "t"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\n')
    ctl, _app, _store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=tmp_path / "c.toml")
    )
    try:
        options = {"time": "2-0", "time-min": "1-0", "hold": "1"}
        job = ctl.submit(build_request("#!/bin/sh\ntrue\n", options, {}, "/", 0), "root").job_ids[0]
        with pytest.raises(SubmitError, match=r"TimeMin=1-00:00:00 exceeds TimeLimit=01:00:00$"):
            update(ctl, str(job), ADMIN, {"TimeLimit": "1:00:00"})
    finally:
        executor.shutdown()

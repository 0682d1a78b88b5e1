"""A session manager started with definitions an older version saved without checking them (QA: mem_mb=-5 killed
the manager's loop at the first session on it, and every user's sessions failed until a restart): the bad one
is refused with its reason, the others are served; one that no longer fits the machine fails its tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hal.htc.app import Application
from hal.htc.client import TaskLost
from hal.htc.local import LocalManager


def test_saved_definitions_that_cannot_be_served_never_stop_the_manager(tmp_path: Path) -> None:
    good = Application("sq", "hal.htc.examples:square").to_dict()
    saved = [{**good, "name": "neg", "mem_mb": -5}, {**good, "name": "zero", "cpus": 0}, good]
    saved.append({**good, "name": "huge", "cpus": 8})  # valid, but bigger than this machine (2 CPUs) now
    (tmp_path / "apps.json").write_text(json.dumps(saved))
    with LocalManager(cpus=2, state_dir=str(tmp_path)) as client:
        assert sorted(a.name for a in client.apps()) == ["huge", "sq"]
        for name, why in (
            ("neg", "mem_mb must be an integer from 0 to 2,147,483,647, got -5"),
            ("zero", "cpus must be an integer from 1 to 2,147,483,647"),
        ):
            with pytest.raises(RuntimeError, match=rf"'{name}' has an invalid saved definition \({why}"):
                client.session(name)
        never = r"'huge' \(8 CPUs, no memory limit per instance\) can never run"
        with client.session("huge") as s, pytest.raises(TaskLost, match=never):
            s.submit(3).result(timeout=30)
        with client.session("sq", slots=2) as s:
            assert list(s.map(range(20))) == [i * i for i in range(20)]
    assert {item["name"] for item in json.loads((tmp_path / "apps.json").read_text())} == {"neg", "zero", "sq", "huge"}

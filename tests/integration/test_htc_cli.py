"""`hal app register|list` take and show an application's resources and instance limits; `hal sessions` shows
each session's counters (submitted, done, failed, running, tasks/s), against a real session manager."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hal.cli.main import build
from hal.htc.local import LocalManager

CLI = build(["app", "sessions"])


def _hal(*args: str) -> str:
    """The real commands, run in-process (a fresh `hal` process costs seconds on a busy machine)."""
    result = CliRunner().invoke(CLI, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_register_list_and_sessions_from_the_command_line() -> None:
    with LocalManager(cpus=2) as client:
        at = ["--address", client.address]
        said = _hal("app", "register", "sq", "hal.htc.examples:square", "--cpus", "1", "--mem-mb", "300",
                    "--min-instances", "1", "--max-instances", "2", *at)  # fmt: skip
        assert "1 CPU, 300 MiB per instance; 1 to 2 instances" in said, said
        listed = json.loads(_hal("app", "list", "--json", *at))["apps"]
        assert [(a["name"], a["cpus"], a["mem_mb"], a["min_instances"], a["max_instances"]) for a in listed] == [
            ("sq", 1, 300, 1, 2)
        ]
        assert "300" in _hal("app", "list", *at)
        with client.session("sq", slots=2, name="squares") as s:
            assert list(s.map(range(300))) == [i * i for i in range(300)]
            rows = json.loads(_hal("sessions", "--json", *at))["sessions"]
            table = _hal("sessions", *at)
    assert [(r["name"], r["submitted"], r["done"], r["failed"], r["running"]) for r in rows] == [
        ("squares", 300, 300, 0, 0)
    ]
    assert rows[0]["tasks_per_s"] >= 0.0
    header = table.splitlines()[0].split()
    assert all(col in header for col in ("SUBMITTED", "DONE", "FAILED", "RUNNING", "TASKS/S")), table
    assert "squares" in table


def test_registering_a_module_the_instances_cannot_import_warns() -> None:
    """It was accepted silently; the first task then failed with a remote ModuleNotFoundError traceback."""
    with LocalManager(cpus=1) as client:
        at = ["--address", client.address]
        result = CliRunner().invoke(CLI, ["app", "register", "px", "mypkg_not_here.risk:price", *at])
        assert result.exit_code == 0, result.output  # registered all the same: it may be installed later
        assert "module 'mypkg_not_here' of 'mypkg_not_here.risk:price' is not importable" in result.stderr
        fine = CliRunner().invoke(CLI, ["app", "register", "sq", "hal.htc.examples:square", *at])
        assert fine.exit_code == 0 and "warning" not in fine.stderr
        assert client.register_app("c", "cmd:echo {input}") is not None  # a command template is not checked


def test_registering_sizes_no_instance_could_have_is_refused() -> None:
    """QA: `--cpus 0` and `--mem-mb -1` were accepted (rc 0, "-1 MiB per instance") and the first session on
    them brought the session manager down for everyone."""
    for option, said in (
        ("--cpus", "cpus must be an integer from 1 to 2,147,483,647, got 0"),
        ("--mem-mb", "mem_mb must be an integer from 0 to 2,147,483,647"),
    ):
        value = "0" if option == "--cpus" else "-1"
        result = CliRunner().invoke(CLI, ["app", "register", "x", "hal.htc.examples:noop", option, value])
        assert result.exit_code != 0 and said in result.stderr, result.output

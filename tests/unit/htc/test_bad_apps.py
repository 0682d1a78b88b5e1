"""One bad application never takes the session manager down (QA: `hal app register x m:f --cpus 0` was accepted,
and the first session on it killed the manager's loop for every user until a restart): such definitions are
refused, a saved one is skipped with the reason, and an unexpected error fails only what it concerns."""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from hal.htc import wire
from hal.htc.app import Application, AppRegistry
from hal.htc.client import HtcClient
from hal.htc.engine_slots import standalone_provider
from hal.htc.manager import Manager
from hal.htc.server import Server
from hal.htc.slots import Granted, Refused, SlotAsk
from hal.htc.state import SessionSpec
from hal.model.resources import Resources


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"cpus": 0}, "cpus must be an integer from 1 to 2,147,483,647, got 0"),
        ({"cpus": -2}, "cpus must be an integer from 1 to 2,147,483,647, got -2"),
        ({"mem_mb": -1}, "mem_mb must be an integer from 0 to 2,147,483,647, got -1"),
        ({"gpus": -1}, "gpus must be an integer from 0 to 2,147,483,647, got -1"),
        ({"cpus": "2"}, "cpus must be an integer from 1 to 2,147,483,647, got '2'"),
        ({"max_instances": 0}, "max_instances must be an integer from 1 to 2,147,483,647, got 0"),
        ({"cpus": 10**20}, "cpus must be an integer from 1 to 2,147,483,647, got 100000000000000000000"),
        ({"env": {"A": 1}}, "env must map names to strings"),
    ],
)
def test_definitions_no_instance_could_run_are_refused(values: dict[str, Any], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        Application("a", "hal.htc.examples:noop", **values)


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("echo {}", "names {}: only {input} is filled in"),
        ("echo {input} {foo}", "names {foo}"),
        ("echo }", "Single '}'"),
        ('echo "open', "cannot be split into arguments"),
        ("", "the command template is empty"),
    ],
)
def test_command_templates_every_task_would_fail_on_are_refused(template: str, said: str) -> None:
    """QA: 'cmd:echo {}' was registered, then every task failed with Python's IndexError."""
    with pytest.raises(ValueError, match=re.escape(said)):
        Application("t", f"cmd:{template}")
    for good in ("echo {input}", 'printf "{{%s}}" {input}', "wc -c {input.name}"):
        Application("t", f"cmd:{good}")


def test_a_saved_bad_definition_is_skipped_with_the_reason_and_kept_for_repair(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "apps.json"
    good = Application("good", "hal.htc.examples:noop").to_dict()
    bad = {**good, "name": "bad", "mem_mb": -5}
    path.write_text(json.dumps([bad, good]))
    with caplog.at_level(logging.ERROR, logger="hal.htc"):
        reg = AppRegistry(path)
    assert list(reg.apps) == ["good"]
    assert (
        "application bad saved in" in caplog.text
        and "mem_mb must be an integer from 0 to 2,147,483,647, got -5" in caplog.text
    )
    with pytest.raises(KeyError, match=r"'bad' has an invalid saved definition \(mem_mb must be .*register it again"):
        reg.get("bad")
    reg.register(Application("other", "hal.htc.examples:noop"))  # a save keeps the bad one for the admin to see
    assert {item["name"] for item in json.loads(path.read_text())} == {"good", "bad", "other"}
    reg.register(Application("bad", "hal.htc.examples:noop", mem_mb=5))  # registered again: fixed
    assert reg.get("bad").mem_mb == 5 and not reg.invalid


def test_an_unreadable_registry_file_is_an_os_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "apps.json"
    path.write_text("[{")
    with pytest.raises(OSError, match="cannot read the registered applications"):
        AppRegistry(path)


def test_an_unexpected_error_in_one_slot_request_refuses_that_pool_only() -> None:
    p = standalone_provider(2)
    submit = p.sched.submit

    def picky(spec: Any, now: float, estimate: Any = None) -> Any:
        if spec.per_task.cpus == 0:
            raise ValueError("zero-size array to reduction operation minimum")  # what the node book raised (QA)
        return submit(spec, now, estimate)

    p.sched.submit = picky  # type: ignore[method-assign]
    p.ask([SlotAsk("bad", "u", Resources(cpus=0), 1), SlotAsk("good", "u", Resources(cpus=1), 1)])
    events = p.poll()
    assert [e.pool for e in events if isinstance(e, Granted)] == ["good"]
    refused = [e for e in events if isinstance(e, Refused)]
    assert [e.pool for e in refused] == ["bad"] and "zero-size array" in refused[0].reason


def test_slot_sizes_the_machine_can_never_hold_are_named() -> None:
    p = standalone_provider(2, 4096)
    assert p.never(Resources(cpus=2, mem_mb=4096)) is None
    assert p.never(Resources(cpus=3)) == "needs 3 cpus, the machine has 2"
    assert p.never(Resources(cpus=1, gpus=1)) == "needs 1 gpus, the machine has 0"


def _forced(name: str, **values: Any) -> Application:
    """A definition as an old version saved it, without today's checks."""
    app = Application(name, "hal.htc.examples:noop")
    for key, value in values.items():
        object.__setattr__(app, key, value)
    return app


def test_an_application_that_fails_in_rebalance_fails_its_own_tasks_and_the_others_go_on() -> None:
    reg = AppRegistry()
    reg.apps["bad"] = _forced("bad", mem_mb=-5)
    reg.apps["good"] = Application("good", "hal.htc.examples:noop")
    p = standalone_provider(2)
    m = Manager(reg, p, lambda *a: (None, None), lambda conn: None)
    bad = m.open_session(SessionSpec("bad", user="u"), None)
    good = m.open_session(SessionSpec("good", user="u"), None)
    for s in (bad, good):
        s.add([(0, 0, b"x")])
    m.rebalance()
    m.rebalance()  # every tick meets the error again: logged once, still no crash
    assert bad.counters.failed == 1 and bad.outbox[0][1] == wire.S_LOST
    assert b"application 'bad' failed in the session manager" in bad.outbox[0][2]
    assert good.counters.failed == 0 and good.queued == 1
    assert ("good", "u") in p.counts.pending  # the good application's slot is asked for all the same


def test_the_loop_survives_unexpected_errors_and_the_asker_hears_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    address = str(tmp_path / "m.sock")
    server = Server(address, AppRegistry(tmp_path / "apps.json"), standalone_provider(1))
    rebalance, calls = server.manager.rebalance, []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("in rebalance")
        rebalance()

    def broken() -> dict[str, Any]:
        raise ZeroDivisionError("in stats")

    server.manager.rebalance = flaky  # type: ignore[method-assign]
    server.manager.stats = broken  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with caplog.at_level(logging.ERROR, logger="hal.htc"):
        thread.start()
        client = HtcClient(address)
        with pytest.raises(RuntimeError, match=r"unexpected error in a request .*ZeroDivisionError\('in stats'\)"):
            client.stats()
        client.register_app("sq", "hal.htc.examples:square")  # the manager still serves everyone
        assert [a.name for a in client.apps()] == ["sq"]
        with pytest.raises(RuntimeError, match=r"'huge' refused: a service instance \(4 CPUs, no memory limit"):
            client.register_app("huge", "hal.htc.examples:noop", cpus=4)
        client.shutdown()
        thread.join(timeout=15)
    assert not thread.is_alive() and len(calls) > 1
    assert "ZeroDivisionError: in rebalance" in caplog.text and "the session manager goes on" in caplog.text


def test_an_application_that_could_never_start_is_refused_at_registration() -> None:
    """QA LOW: env names a process cannot have ('A=B', empty) were taken, then every task failed; an application
    name of 5,000 characters was taken (session names stop at 256)."""
    for bad, said in [({"env": {"A=B": "1"}}, "env name 'A=B' cannot be set"), ({"env": {"": "x"}}, "env name ''"),
                      ({"name": "n" * 257}, "1-256 printable"), ({"name": "a\nb"}, "1-256 printable")]:  # fmt: skip
        with pytest.raises(ValueError, match=said):
            Application(**{"name": "r4", "target": "m:f", **bad})  # type: ignore[arg-type]
    assert Application("ok", "m:f", env={"X": "1"}).env == {"X": "1"}

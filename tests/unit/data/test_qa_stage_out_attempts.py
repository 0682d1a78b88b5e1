"""A stage-out that failed after its retries says how many attempts it had, as a failed stage-in does (QA LOW-9:
"StageOut=dn1:failed: [Errno 111] Connection refused" did not tell whether it had been tried again)."""

from __future__ import annotations

import socket
from pathlib import Path

from hal.controller.core import Controller
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import enable
from hal.data.outputs import states_from_events
from hal.executors.local import LocalExecutor
from tests.integration.test_data_live import CLUSTER


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound then closed): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_stage_out_that_failed_its_retries_says_how_many_it_had(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool"))  # fmt: skip
    recover(ctl)
    data = {
        "cache_dir": str(tmp_path / "cache" / "{node}"),
        "cache_bytes": "4M",
        "catalog": str(tmp_path / "catalog.json"),
        "output_uri": f"ftp://127.0.0.1:{_closed_port()}/{{job}}/{{name}}",  # the FTP destination down
        "attempts": 3,
        "backoff": 0.01,
    }
    staging = enable(ctl, data)
    outputs, node = staging.outputs, ctl.table.names[0]
    assert outputs is not None
    try:
        (staging.stager.open_job_dir(9, node, ()) / "dn1").write_bytes(b"result\n")
        with ctl.lock:
            outputs.after_end(ctl, 9, ("dn1",), node, "COMPLETED")
        assert outputs.wait(30.0)
    finally:
        staging.shutdown()
    state = outputs.state_of(9)["dn1"]
    assert state.startswith("failed: after 3 attempt(s): ") and "refused" in state, state
    assert states_from_events(ctl.store.events_of(9))["dn1"].startswith(state)  # `hal show`: StageOut=dn1:...

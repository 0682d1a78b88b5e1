"""An application's task timeout covers loading the service for a session (importing its module, building it,
on_session_enter): a load that hung left its tasks RUNNING for ever and `with session:` never returned (QA HIGH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.htc.local import LocalManager
from hal.htc.results import TaskLost


def test_a_service_that_hangs_loading_fails_its_tasks_with_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hangs_loading.py").write_text("import time\ntime.sleep(3600)\n\n\ndef f(x):\n    return x\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the instances import it from there
    manager = LocalManager(cpus=1, state_dir=str(tmp_path / "state"))
    client = manager.start()
    try:
        client.register_app("stuck", "hangs_loading:f", max_instances=1, task_timeout=1.0)
        s = client.session("stuck", slots=1)
        with pytest.raises(TaskLost, match=r"die loading 'hangs_loading:f'.*loading the application for the session"):
            s.submit(1).result(timeout=60)
        s.close()
    finally:
        manager.stop()

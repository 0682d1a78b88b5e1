"""REST options given as JSON booleans (QA): ``"nodes": true`` ran on one node and ``"switches": true`` asked for
one switch without a word; ``"exclusive": false`` left the script's ``#SBATCH --exclusive=topo`` in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.test_pending_std_paths import api  # noqa: F401  (the fixture: a real server's app)

TOPO = "#!/bin/sh\n#SBATCH --exclusive=topo\n#SBATCH --hold\ntrue\n"


def _post(client: TestClient, auth: dict[str, str], work: Path, script: str, **options: Any) -> Any:
    body = {"script": script, "options": options, "workdir": str(work)}
    return client.post("/v1/jobs", json=body, headers=auth)


@pytest.mark.parametrize("key", ["nodes", "switches", "segment", "ntasks", "cpus_per_task", "time"])
def test_a_boolean_for_an_option_that_takes_a_value_is_refused(
    api: tuple[TestClient, dict[str, str], Path],  # noqa: F811
    key: str,
) -> None:
    client, auth, work = api
    for value in (True, False):
        got = _post(client, auth, work, "#!/bin/sh\ntrue\n", hold=True, **{key: value})
        assert got.status_code == 400, got.text
        assert f"option {key.replace('_', '-')!r} takes a value" in got.text


def test_false_turns_a_scripts_flag_off(api: tuple[TestClient, dict[str, str], Path]) -> None:  # noqa: F811
    client, auth, work = api
    kept = _post(client, auth, work, TOPO)
    off = _post(client, auth, work, TOPO, exclusive=False)
    assert kept.status_code == off.status_code == 201, (kept.text, off.text)
    shown = [client.get(f"/v1/jobs/{r.json()['job_id']}", headers=auth).json() for r in (kept, off)]
    assert [s["exclusive"] for s in shown] == ["topo", False]
    released = _post(client, auth, work, TOPO, hold=False)  # the script's --hold, turned off too
    assert client.get(f"/v1/jobs/{released.json()['job_id']}", headers=auth).json()["reason"] != "JobHeldUser"
    assert _post(client, auth, work, TOPO, nosuch=False).status_code == 400  # a misspelt flag is not dropped


def test_a_flag_takes_only_true_or_false(api: tuple[TestClient, dict[str, str], Path]) -> None:  # noqa: F811
    """QA: "hold": 0 and "hold": "false" held the job."""
    client, auth, work = api
    for value in (0, "false", "1"):
        got = _post(client, auth, work, "#!/bin/sh\ntrue\n", hold=value)
        assert got.status_code == 400 and "'hold' is a flag: true or false" in got.text, (value, got.text)
    topo = _post(client, auth, work, "#!/bin/sh\ntrue\n", hold=True, exclusive="topo")  # a flag with a value
    assert topo.status_code == 201, topo.text

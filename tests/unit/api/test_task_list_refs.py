"""A task list (scancel's ``12_[2-3]``) names every listed task that exists (MEDIUM: GET /v1/jobs/12_[2-3]
answered with the first task alone, so `hal history -j 12_[2-3]` listed one); a list naming no tasks is a 400."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hal.api.server import ServerOptions, build

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    body = {"script": "#!/bin/sh\ntrue\n", "options": {"array": "1-5", "hold": True}, "workdir": str(tmp_path)}
    with TestClient(app) as client:
        array = client.post("/v1/jobs", json=body, headers=auth).json()["job_id"]
        yield client, auth, array
    executor.shutdown()
    store.close()


@pytest.mark.parametrize(("listed", "tasks"), [("[2-3]", [2, 3]), ("[1,3]", [1, 3]), ("[0-15:4]", [4]), ("[5]", [5])])
def test_a_task_list_answers_with_each_listed_task(api: Any, listed: str, tasks: list[int]) -> None:
    client, auth, array = api
    rec = client.get(f"/v1/jobs/{array}_{listed}", headers=auth).json()
    assert rec["id"] == f"{array}_{listed}" and [t["array_task_id"] for t in rec["tasks"]] == tasks, rec
    assert rec["state"] == "PENDING" and rec["task_states"] == {"PENDING": len(tasks)}


@pytest.mark.parametrize("listed", ["[4-1]", "[a]", "[1-2%1]", "[]", "[1,3"])
def test_a_list_that_names_no_tasks_is_a_bad_request(api: Any, listed: str) -> None:
    client, auth, array = api
    for method, path in [("GET", ""), ("POST", "/hold"), ("DELETE", ""), ("GET", "/events")]:
        resp = client.request(method, f"/v1/jobs/{array}_{listed}{path}", headers=auth)
        assert resp.status_code == 400, (method, path, resp.text)
        assert resp.json()["detail"].startswith(f"'{array}_{listed}' does not name array tasks: give them as")
    many = client.post("/v1/jobs/cancel", json={"jobs": [f"{array}_{listed}"]}, headers=auth).json()
    assert "does not name array tasks" in many["failed"][f"{array}_{listed}"], many
    assert client.get(f"/v1/jobs/{array}_[7-9]", headers=auth).status_code == 404  # well formed, no such tasks


def test_actions_reach_every_listed_task(api: Any) -> None:
    client, auth, array = api
    ids = {t["array_task_id"]: t["job_id"] for t in client.get(f"/v1/jobs/{array}", headers=auth).json()["tasks"]}
    ref = f"/v1/jobs/{array}_[2,4]"
    assert client.post(f"{ref}/release", headers=auth).json() == {"released": [ids[2], ids[4]]}
    assert client.post(f"{ref}/hold", headers=auth).json() == {"held": [ids[2], ids[4]]}
    fields = {"fields": {"Comment": "x"}}
    assert client.post(f"{ref}/update", json=fields, headers=auth).json() == {"updated": [ids[2], ids[4]], "notes": []}
    assert client.delete(ref, headers=auth).json() == {"cancelled": [ids[2], ids[4]]}
    tasks = client.get(f"/v1/jobs/{array}", headers=auth).json()["tasks"]
    assert [(t["state"], t["comment"]) for t in tasks] == [
        ("PENDING", ""), ("CANCELLED", "x"), ("PENDING", ""), ("CANCELLED", "x"), ("PENDING", ""),
    ]  # fmt: skip


def test_a_list_longer_than_200_characters_is_read_as_the_routes_read_it(api: Any) -> None:
    """The store lookup had its own parser, capped at 200 characters: a longer list, taken as a list by the
    routes, was answered 404 "no job"."""
    client, auth, array = api
    listed = "[" + ",".join(["2", "4"] * 60) + "]"  # 241 characters, tasks 2 and 4
    assert len(listed) > 200
    rec = client.get(f"/v1/jobs/{array}_{listed}", headers=auth).json()
    assert [t["array_task_id"] for t in rec["tasks"]] == [2, 4], rec
    assert len(client.delete(f"/v1/jobs/{array}_{listed}", headers=auth).json()["cancelled"]) == 2


def test_a_request_parses_its_list_once(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """checked_ref, resolve_ref and answer each read the ref; the parse is shared, not done three times."""
    from hal.controller import task_lists
    from hal.controller.option_values import parse_array

    client, auth, array = api
    calls: list[str] = []

    def counted(text: str) -> tuple[list[int], int | None]:
        calls.append(text)
        return parse_array(text)

    monkeypatch.setattr(task_lists, "parse_array", counted)
    task_lists._parsed.cache_clear()
    assert client.get(f"/v1/jobs/{array}_[1,5]", headers=auth).status_code == 200
    assert calls == ["1,5"]

"""An output forgotten with `hal dataset rm` keeps its file at the destination; a later output of that name may
replace it only when its job is the same user's or an administrator's (QA MEDIUM: bob's job of the same name
silently overwrote root's forgotten result file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hal.controller.auth import create_token
from hal.controller.directives import build_request
from hal.data.catalog import Catalog
from tests.integration.test_data_stage_out import _controller, _until


def _job(ctl: Any, job: int) -> dict[str, Any]:
    return ctl.store.get(job) or {}  # type: ignore[no-any-return]


def test_a_forgotten_output_is_replaced_only_by_its_owner_or_an_administrator(tmp_path: Path) -> None:
    out = tmp_path / "published"
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    staging.outputs.dest = f"{out}/{{name}}"
    catalog = staging.stager.catalog
    create_token(ctl.store, "root", admin=True)
    create_token(ctl.store, "bob")

    def run(user: str, text: str) -> int:
        script = f'#!/bin/sh\necho {text} > "$HAL_DATA/res1"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "res1"}, {}, str(tmp_path), 0), user).job_ids
        _until(lambda: _job(ctl, job).get("state") in ("FAILED", "COMPLETED"), timeout=20)
        return job

    ctl.start()
    try:
        first = run("al", "AL-RESULT")
        catalog.forget("res1")  # hal dataset rm by al: the file stays
        saved = Catalog(tmp_path / "catalog.json").released  # kept through a restart, with its owner
        theirs = run("bob", "BOB-OVERWROTE")
        kept = (out / "res1").read_text()
        again = run("al", "AL-AGAIN")  # al's own pipeline run again
        catalog.forget("res1")
        admins = run("root", "ROOT")
    finally:
        ctl.stop()
        staging.shutdown()
    assert _job(ctl, first)["state"] == "COMPLETED"
    assert saved == {str(out / "res1"): ("res1", "al")}, saved
    refused = _job(ctl, theirs)
    assert refused["state"] == "FAILED", refused
    assert "holds another user's earlier output 'res1', forgotten with hal dataset rm" in str(refused["cause"])
    assert kept == "AL-RESULT\n"
    assert _job(ctl, again)["state"] == "COMPLETED" and _job(ctl, admins)["state"] == "COMPLETED"
    assert (out / "res1").read_text() == "ROOT\n" and catalog.get("res1").owner == "root"

"""sacct fields of `hal history` that scripts ask for by name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build

RECORD = {"id": "7", "job_id": 7, "name": "wide", "state": "COMPLETED", "alloc_cpus": 12, "req_cpus": 12}


class FakeClient:
    def get(self, ref: str, duplicates: bool = False) -> dict[str, Any]:
        return dict(RECORD)


def test_ncpus_is_the_cpus_the_allocation_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """sacct -o NCPUS (a common field in site scripts) was refused as an unknown field."""

    @contextlib.contextmanager
    def client() -> Iterator[FakeClient]:
        yield FakeClient()

    monkeypatch.setattr("hal.cli.history.client", client)
    got = CliRunner().invoke(build(["history"]), ["history", "-P", "-j", "7", "-o", "JobID,ncpus,AllocCPUS"])
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines() == ["JobID|NCPUS|AllocCPUS", "7|12|12"]

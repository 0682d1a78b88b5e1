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


@pytest.mark.parametrize(
    ("limit", "shown"), [(5400.0, "90"), (30.0, "1"), (None, "UNLIMITED")]
)  # a part-minute rounds up, as Slurm keeps minutes
def test_timelimit_raw_is_the_limit_in_minutes(monkeypatch: pytest.MonkeyPatch, limit: Any, shown: str) -> None:
    """sacct -o TimelimitRaw was refused as an unknown field."""

    class Limited(FakeClient):
        def get(self, ref: str, duplicates: bool = False) -> dict[str, Any]:
            return {**RECORD, "time_limit": limit}

    @contextlib.contextmanager
    def client() -> Iterator[FakeClient]:
        yield Limited()

    monkeypatch.setattr("hal.cli.history.client", client)
    got = CliRunner().invoke(build(["history"]), ["history", "-P", "-j", "7", "-o", "JobID,timelimitraw"])
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines() == ["JobID|TimelimitRaw", f"7|{shown}"]

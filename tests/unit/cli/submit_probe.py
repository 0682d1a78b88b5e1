"""What `hal submit` sends for some words, with the server's client replaced: the options it builds from the
command line, the environment (SBATCH_*) and the script, before any server sees them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from hal.cli.main import build


def sent(monkeypatch: pytest.MonkeyPatch, words: list[str], stdin: str | None = None) -> dict[str, Any]:
    """The options hal submit sends for these words."""
    got: dict[str, Any] = {}

    class Fake:
        def submit(self, text: str, **kw: Any) -> dict[str, Any]:
            got.update(kw["options"])
            return {"job_id": 1}

    @contextlib.contextmanager
    def client() -> Iterator[Fake]:
        yield Fake()

    monkeypatch.setattr("hal.cli.submit.client", client)
    done = CliRunner().invoke(build(["submit"]), ["submit", *words], input=stdin)
    assert done.exit_code == 0, done.output
    return got

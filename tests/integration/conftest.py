"""Fixtures shared by the end-to-end tests: one real server per test module, and an SDK client on it."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path

import pytest

from hal.client import Client
from tests.integration.livekit import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A module's own server (modules may override it with extra options)."""
    live = LiveServer(tmp_path_factory.mktemp("live"))
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> Iterator[Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def sample() -> Path:
    """The shipped 3,000-job KTH-SP2 sample (src/hal/data), as a file path."""
    with as_file(files("hal") / "data" / "kth-sp2-sample.swf") as path:
        return Path(path)

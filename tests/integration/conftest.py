"""Fixtures shared by the end-to-end tests: one real server per test module, and an SDK client on it."""

from __future__ import annotations

from collections.abc import Iterator

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

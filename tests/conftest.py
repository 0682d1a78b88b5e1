"""Shared test fixtures: where ../shared/traces is, and a skip with a clear message when it is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No per-example deadline: a property test's example that took over 200 ms on a loaded CI machine failed the run
# (test_recent_errors_keep_everything_unless_the_newest_lie_beyond_the_rest did, under other jobs' load), though
# no property was broken. Tests that set their own settings keep them.
settings.register_profile("hal", deadline=None)
settings.load_profile("hal")

SHARED_TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"


def shared_trace(name: str) -> Path:
    """A file under ../shared/traces, or skip: CI has ../shared beside the checkout, a user's machine may not."""
    path = SHARED_TRACES / name
    if not path.exists():
        pytest.skip(f"../shared/traces not found: {path} is missing (CI has it beside the checkout)")
    return path


@pytest.fixture(autouse=True)
def _stop_htc_managers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A server built in a test (hal.api.server.build) starts the in-process HTC session manager, which only the
    process's exit stops: each such test kept its journal, sockets and selector open (7 descriptors), and a
    worker process passed 1,024 of them. The managers a test started are stopped when it ends."""
    from hal.htc import bridge

    started: list[object] = []
    real = bridge.start

    def tracked(*args: Any, **kwargs: Any) -> Any:
        service = real(*args, **kwargs)
        started.append(service)
        return service

    monkeypatch.setattr(bridge, "start", tracked)
    yield
    for service in started:
        if isinstance(service, bridge.HtcService):
            service.stop()

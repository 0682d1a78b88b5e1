"""Recoverable sessions survive a restart of the session manager: a graceful stop of a standalone manager, and a
SIGKILL of `hal server`; the re-attached client collects every task's result."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hal.htc.local import LocalManager
from tests.integration.livekit import LiveServer, register_app

N = 40


def _until(what: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_recoverable_session_survives_a_restart_of_the_standalone_manager(tmp_path: Path) -> None:
    manager = LocalManager(cpus=2, state_dir=str(tmp_path))
    client = manager.start()
    try:
        client.register_app("nap", "hal.htc.examples:sleep_ms", max_instances=2)
        plain = client.session("nap", slots=1)
        s = client.session("nap", slots=2, recoverable=True, name="overnight")
        for _ in range(N):
            s.submit(30)
        sid = s.id
        s.detach()
        _until(lambda: [r for r in client.sessions() if r["session"] == sid and r["done"] >= 5])
        manager.stop()
        client = manager.start()
        rows = {r["session"]: r for r in client.sessions()}
        assert rows[sid]["state"] == "detached" and rows[sid]["submitted"] == N, rows
        assert plain.id not in rows  # a plain session ends with its manager
        again = client.attach(sid)
        try:
            results = again.collect(timeout=60)
        finally:
            again.close()
        assert sorted(results) == list(range(N)) and set(results.values()) == {30}
        row = [r for r in client.sessions() if r["session"] == sid][-1]
        assert row["done"] == N and row["failed"] == 0
        opened = client.session("nap", slots=1)
        assert opened.id > sid  # ids are never handed out twice
        opened.close()
    finally:
        manager.stop()


def test_recoverable_session_survives_a_crash_of_hal_server(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {server.token()}"}
        register_app(server, "nap", "hal.htc.examples:sleep_ms", max_instances=2)
        with server.client() as sdk:
            s = sdk.session("nap", slots=2, recoverable=True)
            for _ in range(N):
                s.submit(30)
            sid = s.id
            s.detach()

        def progress() -> list[dict[str, Any]]:
            rows = httpx.get(f"{server.url}/v1/sessions", headers=headers, timeout=30).json()["sessions"]
            return [r for r in rows if r["session"] == sid and r["done"] >= 5]

        _until(progress)
        time.sleep(0.2)  # a few journal windows
        server.kill()
        server.start()
        with server.client() as sdk:
            again = sdk.attach_session(sid)
            try:
                results = again.collect(timeout=60)
            finally:
                again.close()
        assert sorted(results) == list(range(N)) and set(results.values()) == {30}
    finally:
        server.stop()

"""Draining a node under a running HTC session: its instances finish the tasks they hold, take no more, and give
their slots back, so the node reaches `drain` while the session goes on elsewhere (QA: they kept taking tasks,
and the node stayed `drng` as long as the session lived). `hal queue`'s summary counts the slots sessions hold."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.livekit import LiveServer, register_app
from tests.integration.livekit import nodes as _nodes


def test_a_drained_nodes_instances_finish_and_give_their_slots_back(tmp_path: Path) -> None:
    live = LiveServer(tmp_path)
    live.start()
    try:
        register_app(live, "nap", "hal.htc.examples:sleep_ms", max_instances=8)
        headers = {"Authorization": f"Bearer {live.token()}"}
        with live.client() as sdk, sdk.session("nap", slots=8) as s:
            out: list[Any] = []
            inputs = [200] * 600  # 15 s on 8 slots
            t = threading.Thread(target=lambda: out.extend(s.map(inputs)), daemon=True)
            t.start()
            deadline = time.monotonic() + 60
            while _nodes(live)["vn000"]["cpus_alloc"] < 2:  # the session holds vn000's CPUs
                assert time.monotonic() < deadline
                time.sleep(0.1)
            summary = f"{live.url}/v1/queue/summary"
            while httpx.get(summary, headers=headers, timeout=30).json()["htc_slots"] < 8:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            said = live.cli("queue", check=True).stderr  # QA: the queue said nothing ran while slots filled the nodes
            assert "0 running" in said and "HTC sessions hold 8 slot(s), 8 CPU(s)" in " ".join(said.split()), said
            tess = live.cli("token", "create", "--user", "tess", "--home", str(live.home), check=True).stdout.strip()
            scraped = {
                who: httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30).text
                for who, token in (("admin", live.token()), ("tess", tess))
            }  # QA: any user's token saw every user's sessions there, which GET /v1/sessions hides
            assert "hal_htc_session_slots{" in scraped["admin"] and "hal_htc_session" not in scraped["tess"]
            assert "hal_htc_slots{" in scraped["tess"]  # the totals stay public, as hal queue's summary
            live.cli("drain", "vn000", "--reason", "maint", check=True)
            deadline = time.monotonic() + 10
            while (node := _nodes(live)["vn000"])["state"] != "drain":
                assert time.monotonic() < deadline, node
                time.sleep(0.1)
            assert node["cpus_alloc"] == 0 and t.is_alive()  # given back while the session still runs
            t.join(timeout=120)
            assert out == inputs
        rows = httpx.get(f"{live.url}/v1/sessions?all=true", headers=headers, timeout=30).json()["sessions"]
        assert rows[-1]["failed"] == 0 and rows[-1]["done"] == len(inputs)
    finally:
        live.stop()

"""Two sessions share an application's slots in proportion to priority; a higher-priority batch job
preempts HTC slots and every in-flight task goes back to the queue and completes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError
from typing import Any

from hal.htc.client import HtcClient
from hal.htc.local import LocalManager


def _row(client: HtcClient, sid: int) -> dict[str, Any]:
    return next(r for r in client.sessions() if r["session"] == sid)


def _drain(session: Any, n: int, out: list[Any]) -> None:
    try:
        out.extend(session.map([10] * n))
    except CancelledError:  # the test cancels what is left once it has measured
        out.append("cancelled")


def test_two_sessions_share_slots_in_proportion() -> None:
    with LocalManager(cpus=6) as admin:
        admin.register_app("share", "hal.htc.examples:sleep_ms", max_instances=6)
        a = HtcClient(admin.address, user="alice").session("share", priority=2)
        b = HtcClient(admin.address, user="bob").session("share", priority=1)
        outs: list[list[Any]] = [[], []]
        pairs = zip((a, b), outs, strict=True)
        threads = [threading.Thread(target=_drain, args=(s, 3000, o), daemon=True) for s, o in pairs]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ra, rb = _row(admin, a.id), _row(admin, b.id)
            if (ra["slots"], rb["slots"]) == (4, 2):
                break
            time.sleep(0.05)
        assert (ra["slots"], rb["slots"]) == (4, 2), (ra, rb)
        time.sleep(0.3)
        d0 = (_row(admin, a.id)["done"], _row(admin, b.id)["done"])
        time.sleep(3.0)
        d1 = (_row(admin, a.id)["done"], _row(admin, b.id)["done"])
        ratio = (d1[0] - d0[0]) / max(1, d1[1] - d0[1])
        assert abs(ratio - 2.0) / 2.0 < 0.10, (d0, d1, ratio)
        for s in (a, b):
            s.cancel()
        for t in threads:
            t.join(timeout=30)
        a.close()
        b.close()


def test_batch_job_preempts_slots_and_no_task_is_lost() -> None:
    with LocalManager(cpus=2) as client:
        client.register_app("pre", "hal.htc.examples:sleep_ms", max_instances=2)
        n = 300
        with client.session("pre", slots=2) as s:
            out: list[Any] = []
            inputs = [i % 10 for i in range(n)]
            t = threading.Thread(target=lambda: out.extend(s.map(inputs)), daemon=True)
            t.start()
            while _row(client, s.id)["done"] < 20:
                time.sleep(0.02)
            client.hold(cpus=2, duration=1.0, qos="high")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                st = client.stats()
                if st["slots"]["batch_running"] == 1:
                    break
                time.sleep(0.02)
            assert st["slots"]["batch_running"] == 1 and st["slots"]["preempted"] == 2
            assert _row(client, s.id)["slots"] == 0  # the batch job holds every CPU now
            t.join(timeout=120)
            assert out == inputs  # every task, in order, none lost or duplicated
        row = _row(client, s.id)
        assert row["done"] == n and row["failed"] == 0 and row["requeued"] >= 1
        assert client.stats()["totals"]["slots_reclaimed"] == 2

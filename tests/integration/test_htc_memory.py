"""One million tasks stream through a session with memory bounded on the client and the session manager."""

from __future__ import annotations

from hal.htc.local import LocalManager, rss_mb

N = 1_000_000
BOUND_MB = 60.0  # a million pickled inputs and results held at once would take well over 100 MB


def test_million_tasks_with_bounded_memory() -> None:
    manager = LocalManager(cpus=2)
    client = manager.start()
    try:
        client.register_app("noop", "hal.htc.examples:noop", max_instances=2)
        base_client, _ = rss_mb()
        with client.session("noop", slots=2, window=20000) as s:
            list(s.map(range(1000)))
            base_mgr, _ = rss_mb(manager.pid)
            total = count = 0
            peak_client = base_client  # sampled: the process's own high-water mark is the whole suite's (an
            for value in s.map(i for i in range(N)):  # earlier test's 300 MB task input failed this one in CI)
                total += value
                count += 1
                if count % 20_000 == 0:
                    peak_client = max(peak_client, rss_mb()[0])
            _, peak_mgr = rss_mb(manager.pid)
        peak_client = max(peak_client, rss_mb()[0])
    finally:
        manager.stop()
    assert count == N and total == N * (N - 1) // 2
    assert peak_client - base_client < BOUND_MB, (base_client, peak_client)
    assert peak_mgr - base_mgr < BOUND_MB, (base_mgr, peak_mgr)

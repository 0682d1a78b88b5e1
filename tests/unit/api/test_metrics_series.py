"""/metrics: a pending job's partition list is one series whatever order it was typed in (QA: "batch,debug" and
"debug,batch" were two, and the label values grew with users' orderings); the HTC totals since start are
counters (they were gauges, so rate() did not apply)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from hal.api.server import ServerOptions, build
from hal.htc.bridge import HtcCollector

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local-cluster.toml"


def test_a_partition_list_is_one_series_in_any_order(tmp_path: Path) -> None:
    _ctl, app, store, executor = build(ServerOptions(home=tmp_path, executor="dev", cluster=EXAMPLE))
    auth = {"Authorization": f"Bearer {(tmp_path / 'token').read_text().strip()}"}
    try:
        with TestClient(app) as client:
            for part in ("batch,debug", "debug,batch", "debug,batch,debug"):
                body = {"wrap": "true", "options": {"hold": True, "partition": part}, "workdir": "/tmp"}
                assert client.post("/v1/jobs", json=body, headers=auth).status_code == 201
            text = client.get("/metrics", headers=auth).text
            summary = client.get("/v1/queue/summary", headers=auth).json()
    finally:
        executor.shutdown()
        store.close()
    series = [line for line in text.splitlines() if line.startswith("hal_queue_jobs{") and not line.endswith(" 0.0")]
    assert series == ['hal_queue_jobs{partition="batch,debug",state="PENDING"} 3.0'], series
    assert summary["partitions"] == {"batch,debug": {"PENDING": 3}}, summary  # hal queue's summary line alike


class _Stats:
    def stats(self) -> dict[str, Any]:
        totals = {"tasks_done": 7, "instances_lost": 1, "slots_reclaimed": 2}
        return {"sessions": [], "instances": 0, "slots": {"held": 0, "pending": 0}, "totals": totals}


class _Service:
    def client(self) -> _Stats:
        return _Stats()


def test_htc_totals_since_start_are_counters() -> None:
    registry = CollectorRegistry()
    registry.register(HtcCollector(_Service()))  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    for name, value in (("tasks_done", 7), ("instances_lost", 1), ("slots_reclaimed", 2)):
        assert f"# TYPE hal_htc_{name}_total counter" in text or f"# TYPE hal_htc_{name} counter" in text, text
        assert f"\nhal_htc_{name}_total {value}.0\n" in text, text
    assert "# TYPE hal_htc_instances gauge" in text  # what is live now stays a gauge

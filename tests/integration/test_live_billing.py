"""Fair share bills what a job holds, as Slurm bills AllocTRES (QA): an --exclusive GPU job pays for its whole
node, GPUs weighed by the profile's billing_weights, and a restart after a kill -9 recharges exactly that (it
recharged the CPUs held while the live ledger had billed the CPUs asked for: 365 became 1445)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.livekit import LiveServer

CLUSTER = 'name = "bill"\n[[nodes]]\nprefix = "g"\ncount = 2\ncpus = 4\nmem = "1G"\ngpus = 4\n'


def _usage(live: LiveServer) -> float:
    users = json.loads(live.cli("shares", "--json", check=True).stdout)["users"]
    return float(next(u["raw_usage"] for u in users if u["user"] == "root"))


def test_an_exclusive_gpu_job_is_billed_its_whole_node_before_and_after_a_restart(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    (tmp_path / "p.toml").write_text('billing_weights = "CPU=1.0,GRES/gpu=8"\n')
    live = LiveServer(tmp_path, "--profile", str(tmp_path / "p.toml"), cluster=tmp_path / "c.toml")
    live.start()
    try:
        job = live.cli("submit", "--parsable", "--exclusive", "--gres=gpu:1", "--wrap", "sleep 2", check=True)
        assert live.cli("wait", job.stdout.strip(), "--timeout", "60").returncode == 0
        rec = json.loads(live.cli("show", job.stdout.strip(), "--json", check=True).stdout)
        ran = rec["end_time"] - rec["start_time"]
        before = _usage(live)
        assert before == pytest.approx(ran * (4 + 8 * 4), rel=0.02), (before, ran)  # the node's 4 CPUs and 4 GPUs
        live.kill()
        live.start()
        assert _usage(live) == pytest.approx(before, rel=1e-3)
        said = live.cli("shares", check=True).stdout
        assert "usage is billed units (CPU=1.0,GRES/gpu=8) x seconds" in " ".join(said.split()), said
        assert "fair share bills CPU=1.0,GRES/gpu=8" in live.log.read_text()
    finally:
        live.stop()

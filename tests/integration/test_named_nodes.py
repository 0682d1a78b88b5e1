"""A cluster file whose nodes carry a site's own names (names = "gpu[001-004]") runs multi-node jobs: the
controller dealt host CPUs per group by `count`, so such a group got one cpuset and every view of the nodes
and every multi-node start failed with an IndexError."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import LiveServer

NAMED = """
name = "named"
[[nodes]]
names = "gpu[001-004]"
cpus = 2
mem = "1G"
gpus = 2
features = ["a100", "nvlink"]
[topology]
slurm_conf = "topology.conf"
"""


def test_named_nodes_run_multi_node_jobs_and_show_in_hal_nodes(tmp_path: Path) -> None:
    (tmp_path / "topology.conf").write_text("SwitchName=s1 Nodes=gpu[001-002]\nSwitchName=s2 Nodes=gpu[003-004]\n")
    cluster = tmp_path / "named.toml"
    cluster.write_text(NAMED)
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        nodes = json.loads(live.cli("nodes", "--json", check=True).stdout)
        assert [n["name"] for n in nodes["nodes"]] == ["gpu001", "gpu002", "gpu003", "gpu004"]
        job = live.cli("submit", "--parsable", "-N", "2", "--gpus-per-node=2", "--wrap", "hostname", check=True)
        assert live.cli("wait", job.stdout.strip(), "--timeout", "60").returncode == 0
        shown = " ".join(live.cli("show", job.stdout.strip(), check=True).stdout.split())
        assert "NodeList=gpu[001-002]" in shown or "NodeList=gpu[003-004]" in shown, shown
        assert "ReqTRES=cpu=2,mem=0M,node=2,gres/gpu=4 AllocTRES=cpu=2,mem=0M,node=2,gres/gpu=4" in shown, shown
        row = live.cli("history", "-P", "-j", job.stdout.strip(), "-o", "JobID,ReqTRES", check=True).stdout.split()
        assert row[-1].endswith("|cpu=2,mem=0M,node=2,gres/gpu=4")  # sacct's ReqTRES, GPUs as gres/gpu
        ok = live.cli("submit", "--parsable", "-C", "a100&nvlink", "--wrap", "true", check=True)  # -C/--constraint
        assert live.cli("wait", ok.stdout.strip(), "--timeout", "60").returncode == 0
        assert "Features=a100&nvlink" in live.cli("show", ok.stdout.strip(), check=True).stdout
        refused = live.cli("submit", "--constraint=h100", "--wrap", "true")
        assert refused.returncode != 0 and "has the features ['h100'] (no node has them)" in " ".join(
            refused.stderr.split()
        )
        pinned = live.cli("submit", "--parsable", "-w", "gpu[003-004]", "--wrap", "true", check=True).stdout.strip()
        assert live.cli("wait", pinned, "--timeout", "60").returncode == 0  # -w alone: one node each, as sbatch
        assert "NodeList=gpu[003-004]" in live.cli("show", pinned, check=True).stdout
        wider = live.cli("submit", "--parsable", "-N", "3", "-w", "gpu004", "--wrap", "true", check=True)
        assert live.cli("wait", wider.stdout.strip(), "--timeout", "60").returncode == 0  # as sbatch: + 2 others
        assert "NodeList=gpu[001-002,004]" in live.cli("show", wider.stdout.strip(), check=True).stdout
        for args, message in [(["-w", "gpu009"], "do not exist: ['gpu009']"),
                              (["-N", "2", "-w", "gpu[001-003]"], "Node count specification invalid")]:  # fmt: skip
            done = live.cli("submit", *args, "--wrap", "true")
            assert done.returncode != 0 and message in " ".join(done.stderr.split()), done.stderr
    finally:
        live.stop()

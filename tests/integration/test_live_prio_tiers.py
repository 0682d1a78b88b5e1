"""QA: a live server on partitions with priority tiers (low, the default, tier 1; high, tier 10): a high-tier job
goes before an older low-tier one (priority_tier was read but unused); `hal prio` lists held jobs at priority 0 and
array tasks waiting on their %limit, and -j takes ARRAY_TASK ids (it printed nothing) or fails on an unknown job."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import cancel, served, submit, until_state, wait_running

CLUSTER = """name = "tiers"
[[nodes]]
prefix = "n"
count = 1
cpus = 1
mem = "1G"
partitions = ["low", "high"]

[[partitions]]
name = "low"
default = true
priority_tier = 1

[[partitions]]
name = "high"
priority_tier = 10
"""

PROFILE = """order = "multifactor"
half_life = 600
charge_period = 10
[order_args]
weight_age = 1000
weight_fairshare = 10000
weight_jobsize = 1000
weight_partition = 1000
max_age = 3600
"""


def test_tiers_held_jobs_and_array_tasks_in_prio(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text(PROFILE)
    with served(tmp_path, CLUSTER, "--profile", str(profile)) as live:
        blocker = submit(live, "sleep 120")
        wait_running(live, blocker)
        low = submit(live, partition="low")
        high = submit(live, partition="high")
        held = submit(live, hold=True)
        array = submit(live, array="0-2%1")
        got = json.loads(live.cli("prio", "--json", check=True).stdout)["jobs"]
        rows = {r["job_id"]: r for r in got}
        assert rows[int(high)]["factors"]["partition"] == 1000.0 and rows[int(low)]["factors"]["partition"] == 100.0
        assert rows[int(held)]["priority"] == 0.0  # Slurm's for a held job
        assert "Priority=0 " in live.cli("show", held, check=True).stdout
        tasks = sorted(r["array_task_id"] for r in got if r.get("array_job_id") == int(array))
        assert tasks == [0, 1, 2]  # tasks 1 and 2 wait on the %limit, outside the engine
        one = live.cli("prio", "-j", f"{array}_1", check=True).stdout.splitlines()
        assert len(one) == 2 and one[1].split()[2] != "" and one[1].split()[0] != "JOBID"
        bad = live.cli("prio", "-j", "999999")
        assert bad.returncode == 1 and "999999" in bad.stderr
        cancel(live, blocker, held)
        first = until_state(live, high, "COMPLETED")  # tier 10 first, although the low-tier job is older
        assert until_state(live, low, "COMPLETED")["start_time"] >= first["end_time"]

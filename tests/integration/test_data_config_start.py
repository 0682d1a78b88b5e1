"""A cluster file's bad [data] table stops `hal server` before it makes anything in its home, as a bad cluster file
or profile does: it stopped a first start after hal.db and the admin token had been made (QA)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.clusters import switch_tree


def test_a_bad_data_table_is_refused_before_the_state_folder_is_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cluster = tmp_path / "c.toml"
    cache = str(tmp_path / "cache" / "{node}")
    for bad, said in (
        (f'cache_dir = "{cache}"\ncache_bytes = "lots"\n', "cache_bytes must be a positive size"),
        (f'cache_dir = "{cache}"\ncatalog = "{cache}/catalog.json"\n', "catalog"),
    ):
        cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + "\n[data]\n" + bad)
        cmd = [sys.executable, "-m", "hal", "server", "--home", str(home), "--port", "0", "--cluster", str(cluster)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, done.stderr
        assert said in " ".join(done.stderr.split()) and not home.exists(), done.stderr

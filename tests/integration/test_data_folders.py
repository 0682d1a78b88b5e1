"""Folder datasets on a real server: `hal dataset add` takes a folder of shards (its size the bytes of its files,
its checksum a tree digest) and a stored copy of it is checked by that digest; a job reads the folder at
$HAL_DATA/<name> and writes a checkpoint folder as its --output-data, which is staged out as a tree, registered,
and read by the next job of the pipeline; a restart keeps the cached trees and drops a half-copied one."""

from __future__ import annotations

import json
from pathlib import Path

from hal.data.catalog import checksum_of
from tests.integration.livekit import EXAMPLE, LiveServer, finished, restart_on, submit

READ_AND_WRITE = """#!/bin/sh
set -e
cd "$HAL_DATA/shards"
find . -type f | sort | xargs cat | wc -c > "{seen}"
mkdir -p "$HAL_DATA/ckpt/opt"
head -c 3000 shard-0.bin > "$HAL_DATA/ckpt/model.pt"
printf 'step 1\\n' > "$HAL_DATA/ckpt/opt/state.txt"
"""
READ_CKPT = '#!/bin/sh\ncat "$HAL_DATA/ckpt/opt/state.txt" > "{seen}"\n'


def test_a_job_reads_a_folder_dataset_and_writes_a_folder_output(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncache_bytes = "1M"\n'
                       f'catalog = "{tmp_path}/catalog.json"\n'
                       f'output_uri = "{tmp_path}/out/{{job}}/{{name}}"\n')  # fmt: skip
    shards = tmp_path / "store" / "shards"
    for i in range(3):
        (shards / "part" if i == 2 else shards).mkdir(parents=True, exist_ok=True)
        (shards / ("part/shard-2.bin" if i == 2 else f"shard-{i}.bin")).write_bytes(bytes([65 + i]) * 10_000)
    mirror = tmp_path / "mirror" / "shards"
    mirror.mkdir(parents=True)
    for path in shards.rglob("*"):  # a stored copy: the same files at the same paths
        (mirror / path.relative_to(shards)).parent.mkdir(exist_ok=True)
        if path.is_file():
            (mirror / path.relative_to(shards)).write_bytes(path.read_bytes())
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        added = json.loads(live.cli("dataset", "add", "shards", str(shards), "--json", check=True).stdout)
        assert (added["checksum"], added["size"]) == checksum_of(str(shards)) and added["size"] == 30_000
        assert added["checksum"].startswith("sha256-tree:")
        live.cli("dataset", "add-copy", "shards", str(mirror), "--location", "mirror", check=True)
        (mirror / "part" / "shard-2.bin").write_bytes(b"Z" * 10_000)  # no longer the dataset: refused elsewhere
        done = live.cli("dataset", "add-copy", "shards", str(mirror), "--location", "b")
        assert done.returncode != 0 and "is not a copy of dataset 'shards'" in " ".join(done.stderr.split())
        seen = tmp_path / "seen"
        job = submit(live, script=READ_AND_WRITE.format(seen=seen), input_data="shards", output_data="ckpt")
        assert finished(live, job) == "COMPLETED", (tmp_path / "server.log").read_text()[-3000:]
        assert seen.read_text().strip() == "30000"  # every shard, in its folders, at $HAL_DATA/shards
        dest = tmp_path / "out" / job / "ckpt"
        assert (dest / "model.pt").read_bytes() == b"A" * 3000 and (dest / "opt" / "state.txt").exists()
        shown = json.loads(live.cli("dataset", "show", "ckpt", "--json", check=True).stdout)
        assert (shown["checksum"], shown["size"]) == checksum_of(str(dest)) and shown["size"] == 3007
        assert {r["kind"] for r in shown["replicas"]} == {"origin", "cache"}  # the destination, the node's cache
        after = tmp_path / "after"
        reader = submit(live, script=READ_CKPT.format(seen=after), input_data="ckpt")
        assert finished(live, reader) == "COMPLETED" and after.read_text() == "step 1\n"
        # a restart keeps the cached trees the catalog knows and removes a half-copied one a crash left
        (node,) = [r["location"] for r in shown["replicas"] if r["kind"] == "cache"]
        half = tmp_path / "cache" / node / ".shards.99.partial"
        (half / "part").mkdir(parents=True)
        (half / "part" / "shard-2.bin").write_bytes(b"C" * 10)
        restart_on(live, cluster.read_text())
        assert not half.exists() and (tmp_path / "cache" / node / "ckpt" / "opt" / "state.txt").exists()
        kept = json.loads(live.cli("dataset", "show", "ckpt", "--json", check=True).stdout)["replicas"]
        assert {r["location"] for r in kept} == {"origin", node}
    finally:
        live.stop()

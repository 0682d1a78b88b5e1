"""`hal dataset add/list` on a real server: datasets join the catalog without a restart (the running server owns
the catalog file), and a job reads one at once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx

from tests.integration.livekit import EXAMPLE, LiveServer, cancel, concurrently, finished, nodes, submit


def test_an_admin_adds_a_dataset_and_a_job_reads_it(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncache_bytes = "1M"\n'
                       f'catalog = "{tmp_path}/catalog.json"\n')  # fmt: skip
    data = tmp_path / "store" / "genome.fa"
    data.parent.mkdir()
    data.write_bytes(b"ACGT" * 50_000)
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        added = json.loads(live.cli("dataset", "add", "genome", str(data), "--json", check=True).stdout)
        assert (
            added["size"] == 200_000 and added["checksum"] == "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest()
        )
        listed = json.loads(live.cli("dataset", "list", "--json", check=True).stdout)["datasets"]
        assert [(d["name"], d["replicas"]) for d in listed] == [("genome", ["origin"])]
        script = tmp_path / "work" / "read.sh"
        script.write_text('#!/bin/sh\nwc -c < "$HAL_DATA/genome"\n')
        out = tmp_path / "read.out"
        # jobs go in through the SDK (`hal submit`, `hal wait` and `hal nodes --json` are not the subject)
        job = submit(live, script=script.read_text(), input_data="genome", output=str(out))
        assert finished(live, job) == "COMPLETED"
        assert out.read_text().strip() == "200000"
        shown = list(nodes(live).values())
        assert sorted(n["cache_bytes"] for n in shown)[-1] == 200_000 and {n["cache_size"] for n in shown} == {2**20}
        assert {n["cache_held"] for n in shown} == {0}  # the job ended: nothing pinned (the key was missing: HELD 0)
        assert "CACHE(USED/HELD/SIZE)" in live.cli("nodes", "--long", check=True).stdout
        metrics = httpx.get(f"{live.url}/metrics", headers={"Authorization": f"Bearer {live.token()}"}, timeout=30).text
        assert 'hal_cache_bytes{kind="size",node="vn000"} 1.048576e+06' in metrics
        assert 'hal_cache_bytes{kind="held",node="vn000"}' in metrics  # the HELD of hal nodes --long (was "pinned")
        (empty := tmp_path / "empty" / "sub").mkdir(parents=True)
        refusals = [
            (["genome", str(data)], "already has a dataset 'genome'"),
            (["other", str(tmp_path / "missing")], "cannot read"),
            (["../up", str(data)], "a dataset name is 1 to 200 ASCII letters"),
            (["rel", "store/genome.fa"], "give an absolute path or a URL"),  # the server's folder is not yours
            (["s3data", "s3://bucket/key"], "cannot read s3://bucket/key"),  # no backend installed: a 400, not 500
            (["onnode", str(data), "--location", "vn001"], "--location vn001 is a node"),  # jobs failed on it
            (["blank", str(data), "--location", ""], "a location is a name or level=label"),
            (["zero", "/dev/zero"], "is not a regular file: it is a device, pipe or socket"),  # hashed forever
            (["folder", str(empty)], "is an empty folder"),  # a folder of files is a dataset; an empty one not
            (["zipped", "zip://x::file:///dev/zero"], "file:///dev/zero is not a regular file"),  # 10 GB of RAM
        ]
        said = concurrently(*(lambda args=args: live.cli("dataset", "add", *args) for args, _ in refusals))
        for (args, message), done in zip(refusals, said, strict=True):  # each refused on its own: side by side
            assert done.returncode != 0 and message in " ".join(done.stderr.split()), (args, done.stderr)
        submit(live, output_data="later", hold=True)  # a queued job will write it
        done = live.cli("dataset", "add", "later", str(data))
        assert done.returncode != 0 and "will write 'later'" in " ".join(done.stderr.split())
        bob = live.new_user("bob")
        done = live.cli("dataset", "add", "mine", str(data), token=bob)
        assert done.returncode != 0 and "only admins" in done.stderr
        seen = json.loads(live.cli("dataset", "list", "--json", token=bob, check=True).stdout)["datasets"]
        assert [d["uri"] for d in seen] == [str(data)]  # where it is, also for users
        # a changed file: its dataset failed every reader (checksum) and its name could not be registered again
        reader = submit(live, hold=True, input_data="genome")
        done = live.cli("dataset", "rm", "genome")
        assert done.returncode != 0 and f"'genome' is read by job {reader}, which" in " ".join(done.stderr.split())
        done = live.cli("dataset", "rm", "genome", token=bob)
        assert done.returncode != 0 and "only admins" in done.stderr
        cancel(live, reader)
        live.cli("dataset", "rm", "genome", check=True)
        assert not list((tmp_path / "cache").glob("*/genome"))  # its cached copies went too
        data.write_bytes(b"TTGA" * 10)
        again = json.loads(live.cli("dataset", "add", "genome", str(data), "--json", check=True).stdout)
        assert again["size"] == 40
        assert "no dataset 'nothing'" in " ".join(live.cli("dataset", "rm", "nothing").stderr.split())
        # a pipeline run again writes its output again: the user whose job wrote it may remove it (only admins could)
        wrote = submit(live, 'echo b > "$HAL_DATA/bobs"', token=bob, output_data="bobs")
        assert finished(live, wrote, token=bob) == "COMPLETED"
        owned = json.loads(live.cli("dataset", "list", "--json", token=bob, check=True).stdout)["datasets"]
        assert [d["owner"] for d in owned if d["name"] == "bobs"] == ["bob"]
        carol = live.new_user("carol")
        done = live.cli("dataset", "rm", "bobs", token=carol)
        assert done.returncode != 0 and "the user whose job wrote it" in " ".join(done.stderr.split())
        live.cli("dataset", "rm", "bobs", token=bob, check=True)
        huge = tmp_path / "store" / "huge.bin"
        huge.write_bytes(b"x" * 2_000_000)  # the caches hold 1 MB
        said = " ".join(live.cli("dataset", "add", "huge", str(huge), check=True).stderr.split())
        assert "more than any node cache holds" in said
    finally:
        live.stop()


def test_users_see_dataset_addresses_without_credentials() -> None:
    from hal.data.catalog import public_uri

    assert public_uri("/data/x.fa") == "/data/x.fa" and public_uri("s3://bucket/key") == "s3://bucket/key"
    assert public_uri("s3://AKIA:secret@bucket/k") == "s3://bucket/k"
    assert public_uri("https://u:pw@host:8443/a/b?X-Amz-Signature=abc#f") == "https://host:8443/a/b?<hidden>"
    assert public_uri("simplecache::memory://alice:s3cret@bucket/1/out") == "simplecache::memory://bucket/1/out"
    assert public_uri("zip://inner::s3://KEY:SECRET@b/f") == "zip://inner::s3://b/f"

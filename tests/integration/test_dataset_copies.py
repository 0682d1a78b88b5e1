"""A dataset's copies on a real server: `hal dataset add-copy` registers a mirror an administrator keeps in site
storage (only a byte-for-byte copy), `hal dataset show` lists every copy and the jobs using it, a job stages from
the mirror when the origin is gone, and `hal dataset rm-copy` forgets a copy but never the last stored one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.livekit import EXAMPLE, LiveServer, finished, submit


def test_a_mirror_is_registered_checked_shown_read_and_forgotten(tmp_path: Path) -> None:
    cluster = tmp_path / "c.toml"
    cluster.write_text(EXAMPLE.read_text() + f'\n[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\ncache_bytes = "1M"\n'
                       f'catalog = "{tmp_path}/catalog.json"\n')  # fmt: skip
    origin, mirror, other = tmp_path / "src" / "ref.fa", tmp_path / "mirror" / "ref.fa", tmp_path / "other.fa"
    for path in (origin, mirror):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"ACGT" * 10_000)
    other.write_bytes(b"TTTT" * 10_000)
    live = LiveServer(tmp_path, cluster=cluster)
    live.start()
    try:
        live.cli("dataset", "add", "ref", str(origin), check=True)
        added = live.cli("dataset", "add-copy", "ref", str(mirror), "--location", "mirror", "--json", check=True)
        assert json.loads(added.stdout)["kind"] == "storage"
        refused = [
            (["ref", str(other), "--location", "b"], "is not a copy of dataset 'ref': 40,000 bytes"),
            (["ref", str(mirror), "--location", "mirror"], "already has a copy at mirror"),
            (["ref", str(mirror), "--location", "vn001"], "--location vn001 is a node"),
            (["nope", str(mirror), "--location", "b"], "no dataset 'nope' in the catalog"),
            (["ref", str(mirror), "--location", ".."], "a location is a name or level=label"),
            (["ref", str(mirror), "--location", "rack 1/x"], "a location is a name or level=label"),
            (["ref", str(mirror), "--location", "rack=r1"], "the cluster has no level 'rack' (its levels are switch)"),
            (["ref", str(mirror), "--location", "switch=nosuch"], "no switch is named 'nosuch' (there are "),
        ]
        for args, message in refused:
            done = live.cli("dataset", "add-copy", *args)
            assert done.returncode != 0 and message in " ".join(done.stderr.split()), (args, done.stderr)
        origin.unlink()  # the origin is gone: the stage-in reads the mirror (and checks it)
        out = tmp_path / "read.out"
        job = submit(live, script='#!/bin/sh\nwc -c < "$HAL_DATA/ref"\n', input_data="ref", output=str(out))
        assert finished(live, job) == "COMPLETED" and out.read_text().strip() == "40000"
        shown = json.loads(live.cli("dataset", "show", "ref", "--json", check=True).stdout)
        kinds = {r["location"]: r["kind"] for r in shown["replicas"]}
        assert kinds["origin"] == "origin" and kinds["mirror"] == "storage" and "cache" in kinds.values()
        text = live.cli("dataset", "show", "ref", check=True).stdout
        assert "Dataset=ref Size=40,000" in text and "mirror" in text and "ReadBy=(none)" in text
        cached = next((tmp_path / "cache").glob("*/ref"))  # HAL's own cached copy: evicted at will
        said = live.cli("dataset", "add-copy", "ref", str(cached), "--location", "r1")
        assert said.returncode != 0 and "is in the node cache" in " ".join(said.stderr.split()), said.stderr
        for uri, why in [  # refused as hal dataset add refuses them (QA): gone at a restart, or read elsewhere
            ("memory://ref", "in the server process's memory"),
            ("file://rel/ref", "is a relative path"),
            (str(cached.parent.parent), "holds the node cache"),
            (str(tmp_path / "catalog.json"), "catalog"),  # the server's own catalog file
        ]:
            said = live.cli("dataset", "add-copy", "ref", uri, "--location", "r1")
            assert said.returncode != 0 and why in " ".join(said.stderr.split()), (uri, said.stderr)
        live.cli("dataset", "add", "other", str(other), check=True)
        for location in ("../../other", ".."):  # a dot segment in the address was another route (QA)
            gone = live.cli("dataset", "rm-copy", "ref", "--location", location)
            assert gone.returncode != 0 and "has no copy at" in " ".join(gone.stderr.split()), gone.stderr
        assert {d["name"] for d in json.loads(live.cli("dataset", "list", "--json").stdout)["datasets"]} == {
            "ref",
            "other",
        }
        live.cli("dataset", "rm-copy", "ref", "--location", "origin", check=True)
        last = live.cli("dataset", "rm-copy", "ref", "--location", "mirror")
        assert last.returncode != 0 and "the only stored copy of 'ref'" in " ".join(last.stderr.split())
        listed = {
            d["name"]: d for d in json.loads(live.cli("dataset", "list", "--json", check=True).stdout)["datasets"]
        }
        assert "origin" not in listed["ref"]["replicas"] and "mirror" in listed["ref"]["replicas"]
        assert json.loads(live.cli("dataset", "show", "ref", "--json").stdout)["uri"] == str(mirror)  # not the origin
        user = live.new_user("ada")
        denied = live.cli("dataset", "add-copy", "ref", str(mirror), "--location", "c", token=user)
        assert denied.returncode != 0 and "only admins" in denied.stderr
        held = submit(live, input_data="ref", hold=True)  # root's job: its id is not ada's to see (hal show denies it)
        theirs = json.loads(live.cli("dataset", "show", "ref", "--json", token=user, check=True).stdout)
        assert (theirs["readers"], theirs["others"]) == ([], 1)
        ours = json.loads(live.cli("dataset", "show", "ref", "--json", check=True).stdout)
        assert (ours["readers"], ours["others"]) == ([int(held)], 0)
    finally:
        live.stop()

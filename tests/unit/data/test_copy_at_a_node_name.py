"""A stored copy registered under a location that a later cluster file names as a node is forgotten at the start,
with a warning naming the copy and the fix; it went silently (QA), and kept as a node's it would have made
placement count on a cache that holds nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hal.data.catalog import Replica
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller


def with_data(tmp: Path, nodes: int) -> str:
    plain = cluster_toml(name="c", nodes=nodes, cpus=2, mem="1G")
    return plain + f'[data]\ncache_dir = "{tmp}/cache/{{node}}"\ncache_bytes = "4M"\ncatalog = "{tmp}/cat.json"\n'


def test_a_copy_whose_location_became_a_node_is_forgotten_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    origin, mirror = tmp_path / "ref", tmp_path / "mirror-ref"
    origin.write_bytes(b"ACGT" * 100)
    mirror.write_bytes(b"ACGT" * 100)
    with controller(tmp_path, with_data(tmp_path, 2)) as ctl:
        catalog = ctl.staging.stager.catalog
        catalog.register_file("ref", str(origin))
        catalog.add_replica(Replica("ref", "n002", str(mirror)))  # not a node of this cluster
    with caplog.at_level(logging.WARNING, "hal.data"), controller(tmp_path, with_data(tmp_path, 3)) as ctl:
        assert {r.location for r in ctl.staging.stager.catalog.replicas_of("ref")} == {"origin"}
    assert "copy of 'ref' at n002" in caplog.text and "is now a node of the cluster" in caplog.text
    assert mirror.exists()

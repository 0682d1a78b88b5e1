"""README's `hal dataset add-copy` example works on the cluster README runs (examples/local-cluster.toml). QA:
it gave `--location site=cloud`, refused there ("the cluster has no level 'site' (its levels are switch)")."""

from __future__ import annotations

import re
from pathlib import Path

from hal.api.replicas import bad_location, unknown_domain
from hal.clusterfile import load_cluster

ROOT = Path(__file__).resolve().parents[3]


def test_readmes_add_copy_locations_are_taken_on_the_example_cluster() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    given = re.findall(r"hal dataset add-copy NAME URI --location (\S+?)`", readme)
    given += re.findall(r"a plain name such as `--location (\S+?)`", readme)
    topology = load_cluster(ROOT / "examples" / "local-cluster.toml").topology
    for where in given:
        assert bad_location(where) is None and unknown_domain(topology, where) is None, where
    assert len(given) == 2, given  # the LEVEL=LABEL form and the plain name

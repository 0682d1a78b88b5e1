"""The server's start-up log names the profile's leaf-aware reservation: it named order, backfill and placement
only, so a site could not tell whether its topology_reserve was taken (QA)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hal.api.server import ServerOptions, build
from tests.unit.controller.topokit import ALTERNATING


def test_the_log_names_the_topology_reserve(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "topology.conf").write_text(ALTERNATING)
    cluster = tmp_path / "c.toml"
    cluster.write_text(
        'name = "t"\n[[nodes]]\nnames = "node[01-16]"\ncpus = 2\nmem = "1G"\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    profile = tmp_path / "p.toml"
    profile.write_text('[scheduler]\nplacement = "topology"\ntopology_reserve = "wait=3600,depth=3"\n')
    with caplog.at_level(logging.INFO):
        _ctl, _app, store, executor = build(
            ServerOptions(home=tmp_path / "home", executor="dev", cluster=cluster, profile=profile)
        )
    executor.shutdown()
    store.close()
    assert "placement topology (topology_reserve wait=3600,depth=3)" in caplog.text, caplog.text

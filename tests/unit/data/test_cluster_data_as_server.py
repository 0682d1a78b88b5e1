"""QA: `hal cluster show FILE` and `hal simulate --cluster FILE` accepted a `[data] catalog` inside a node cache,
which `hal server --cluster FILE` refuses; and egress priced at a level the tree lacks (`egress_per_gb` with the
default `egress_level = "site"`), which the server warns of at start, passed `hal cluster show` without a word."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.clusterfile import load_cluster
from hal.data.live_config import check_egress, data_table, transfer_model
from hal.engine.plugins.locality import Locality
from hal.engine.plugins.topology import TopologySelector

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "hal" / "data" / "kth-sp2-sample.swf"
TREE = '[[nodes]]\nprefix = "n"\ncount = 8\ncpus = 4\n[topology]\nlevels = ["spine", "switch"]\nfanouts = [2, 4]\n'


def _file(tmp_path: Path, data: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'{TREE}[data]\ncache_dir = "{tmp_path}/cache/{{node}}"\n{data}')
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('catalog = "{tmp}/cache/n001/catalog.json"\n', "[data] catalog: {tmp}/cache/n001/catalog.json is in the node"),
        ('output_uri = "{tmp}/cache/n002/{{job}}/{{name}}"\n', "{tmp}/cache/n002/1/NAME is in the node cache"),
    ],
)
def test_cluster_show_and_simulate_refuse_what_the_server_refuses(tmp_path: Path, data: str, said: str) -> None:
    path = _file(tmp_path, data.format(tmp=tmp_path))
    for args in (
        ["cluster", "show", str(path)],
        ["simulate", str(SAMPLE), "--cluster", str(path), "--window", "0:50"],
        ["compare", str(SAMPLE), "--cluster", str(path), "--window", "0:50", "--no-plots"],
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert said.format(tmp=tmp_path) in _flat(res.output), (args, res.output)


def test_a_catalog_outside_the_caches_still_passes(tmp_path: Path) -> None:
    path = _file(tmp_path, f'catalog = "{tmp_path}/catalog.json"\n')
    res = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert res.exit_code == 0 and "warning" not in res.output, res.output


def test_cluster_show_warns_of_egress_as_the_server_does(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _file(tmp_path, "egress_per_gb = {cloud = 0.09}\n")  # egress_level "site": no level of this tree
    table = data_table(path)
    assert table is not None
    cluster = load_cluster(path)
    assert cluster.topology is not None
    with caplog.at_level(logging.WARNING, logger="hal.data"):  # what the server logs at start (_wire)
        server = check_egress(Locality(TopologySelector(cluster.topology).index, transfer_model(table)))
    assert server and "egress_level = 'site' is no level" in server[0], server
    res = CliRunner().invoke(app, ["cluster", "show", str(path)])
    assert res.exit_code == 0, res.output
    for line in server:
        assert _flat(f"warning: {line}") in _flat(res.output), res.output

"""Relative ``[data]`` paths are read from the cluster file's folder, as ``[topology] slurm_conf`` is; they were
read from the folder `hal server` ran in, so the same file started elsewhere used other caches and catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.data.live_config import data_table

TABLE = """name = "c"
[[nodes]]
names = "vn[000-001]"
cpus = 2
mem = "1G"
[data]
cache_dir = "cache/{node}"
catalog = "state/catalog.json"
output_uri = "results/{job}/{name}"
"""


def test_relative_paths_are_taken_from_the_cluster_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "c.toml").write_text(TABLE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    table = data_table(Path("../site/c.toml"))
    assert table is not None
    assert Path(table["cache_dir"]).resolve() == (site / "cache" / "{node}").resolve()
    assert Path(table["catalog"]).resolve() == (site / "state" / "catalog.json").resolve()
    assert Path(table["output_uri"]).resolve() == (site / "results" / "{job}" / "{name}").resolve()


def test_absolute_paths_urls_home_and_other_values_are_kept(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        TABLE.replace('"cache/{node}"', '"/scratch/{node}"')
        .replace('"state/catalog.json"', '"~/catalog.json"')
        .replace('"results/{job}/{name}"', '"s3://bucket/{job}/{name}"')
        + "cache_bytes = 5\n"
    )
    table = data_table(tmp_path / "c.toml")
    assert table is not None
    assert table["cache_dir"] == "/scratch/{node}"
    assert table["catalog"] == str(Path.home() / "catalog.json")
    assert table["output_uri"] == "s3://bucket/{job}/{name}"
    assert table["cache_bytes"] == 5

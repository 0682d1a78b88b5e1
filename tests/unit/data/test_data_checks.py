"""The places `hal server` would fail to use, told by check_cluster_data before anything is made (QA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.clusterfile import load_cluster
from hal.data.live_config import check_cluster_data
from tests.clusters import switch_tree


def _check(tmp_path: Path, data: dict[str, object]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(switch_tree("two", "vn", 2, 2, "1G", 2))
    check_cluster_data(load_cluster(path), data, here=True)


def test_a_file_where_every_cache_folder_goes_is_refused_as_the_server_says(tmp_path: Path) -> None:
    """One node's broken folder is that node's fault (the server drains it: hal/data/start_faults.py); a cache_dir
    no node can use is a wrong path, refused."""
    (tmp_path / "vn001").write_text("x")
    _check(tmp_path, {"cache_dir": f"{tmp_path}/{{node}}"})
    (tmp_path / "vn000").write_text("x")
    with pytest.raises(ValueError, match=f"cannot use {tmp_path}/vn000: a file stands where its folder should be"):
        _check(tmp_path, {"cache_dir": f"{tmp_path}/{{node}}"})


def test_the_default_outputs_folder_is_checked_without_an_output_uri(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "outputs").write_text("x")
    with pytest.raises(ValueError, match="outputs: a file stands"):
        _check(tmp_path, {"cache_dir": f"{tmp_path}/c/{{node}}"})
    _check(tmp_path, {"cache_dir": f"{tmp_path}/c/{{node}}", "output_uri": f"{tmp_path}/out/{{name}}"})


def test_a_catalog_in_no_folder_or_with_a_folder_for_its_lock_is_refused(tmp_path: Path) -> None:
    cache = f"{tmp_path}/cache/{{node}}"
    with pytest.raises(ValueError, match=r"its folder .* does not exist"):
        _check(tmp_path, {"cache_dir": cache, "catalog": f"{tmp_path}/no/cat.json"})
    (tmp_path / "cat.json.lock").mkdir()
    with pytest.raises(ValueError, match=r"lock file .* is not a file"):
        _check(tmp_path, {"cache_dir": cache, "catalog": f"{tmp_path}/cat.json"})
    (tmp_path / "good.json").write_text('{"datasets": [], "replicas": []}')
    _check(tmp_path, {"cache_dir": cache, "catalog": f"{tmp_path}/good.json", "output_location": "site-store"})
    assert not (tmp_path / "cache").exists() and not (tmp_path / "good.json.lock").exists()


def test_a_file_checked_elsewhere_is_not_judged_by_this_machines_folders(tmp_path: Path) -> None:
    """`hal cluster show` and `hal simulate` may read a site's cluster file on a laptop: its cache and catalog
    folders are the server machine's, checked by `hal server` alone."""
    path = tmp_path / "c.toml"
    path.write_text(switch_tree("two", "vn", 2, 2, "1G", 2))
    check_cluster_data(load_cluster(path), {"cache_dir": "/proc/nope/{node}", "catalog": "/site/hal/cat.json"})

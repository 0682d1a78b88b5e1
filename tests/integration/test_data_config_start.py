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


def _cases(tmp_path: Path) -> list[tuple[str, str]]:
    """Values the server refused only once hal.db, the token and the spool were in its home (QA)."""
    cache = str(tmp_path / "cache" / "{node}")
    afile = tmp_path / "afile"
    afile.write_text("x")
    folder = tmp_path / "cat.json"
    folder.mkdir()
    return [
        (f'cache_dir = "{cache}"\nkeep_failed_outputs = "x"\n', "keep_failed_outputs must be a number of seconds"),
        (f'cache_dir = "{cache}"\nkeep_failed_outputs = -1\n', "keep_failed_outputs must be >= 0"),
        (f'cache_dir = "{cache}"\noutput_location = 5\n', "output_location = 5: a location is a name"),
        (f'cache_dir = "{cache}"\noutput_location = "vn000"\n', "output_location = 'vn000' is a node"),
        (f'cache_dir = "{cache}"\noutput_location = "rack=r1"\n', "the cluster has no level 'rack'"),
        (f'cache_dir = "{cache}"\noutput_location = "switch=s9"\n', "no switch is named 's9'"),
        (f'cache_dir = "{cache}"\ncatalog = 5\n', "catalog is the catalog file's path, not 5"),
        (f'cache_dir = "{afile}/{{node}}"\n', f"cannot use {afile}/vn000: Not a directory"),
        ('cache_dir = "/proc/nope/{node}"\n', "cannot use /proc/nope: No such file or directory"),
        (f'cache_dir = "{cache}"\ncatalog = "{folder}"\n', f"catalog {folder} is not a HAL catalog"),
    ]


def test_every_value_the_data_plane_refuses_is_refused_before_the_home_is_made(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cluster = tmp_path / "c.toml"
    for bad, said in _cases(tmp_path):
        cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + "\n[data]\n" + bad)
        cmd = [sys.executable, "-m", "hal", "server", "--home", str(home), "--port", "0", "--cluster", str(cluster)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, (bad, done.stderr)
        assert said in " ".join(done.stderr.split()) and not home.exists(), (bad, done.stderr)
        assert not (tmp_path / "cache").exists() and not (tmp_path / "cat.json.lock").exists(), bad


def test_hal_cluster_show_refuses_them_too(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hal.cli.main import app

    cluster = tmp_path / "c.toml"
    for bad, said in _cases(tmp_path)[:7]:  # the values; folders of this machine are the server's to check
        cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + "\n[data]\n" + bad)
        res = CliRunner().invoke(app, ["cluster", "show", str(cluster)])
        assert res.exit_code == 2 and said in " ".join(res.output.split()), (bad, res.output)
    cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + '\n[data]\noutput_location = "switch=switch0"\n')
    assert CliRunner().invoke(app, ["cluster", "show", str(cluster)]).exit_code == 0

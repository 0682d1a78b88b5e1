"""QA on [data] paths at `hal server` start: a relative ``file://`` output_uri was neither anchored to the cluster
file's folder nor checked against the caches (it is refused, as `hal dataset add` refuses a relative file URI),
``~nosuchuser`` was a RuntimeError's traceback, a cache_dir without {node} read "needs {node}; it takes {node}",
and a missing catalog folder was named ``.../conf/../state``. Each is one line, and nothing is made in the home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.clusters import switch_tree


def _start(tmp_path: Path, data: str) -> str:
    """`hal server`'s stderr for a cluster file in ``conf/`` with this [data] table; it must refuse it."""
    conf, home = tmp_path / "conf", tmp_path / "home"
    conf.mkdir(exist_ok=True)
    cluster = conf / "c.toml"
    cluster.write_text(switch_tree("two", "vn", 2, 2, "1G", 2) + "\n[data]\n" + data)
    cmd = [sys.executable, "-m", "hal", "server", "--home", str(home), "--port", "0", "--cluster", str(cluster)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and not home.exists(), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return " ".join(done.stderr.split())


def test_a_relative_file_url_as_output_uri_is_refused(tmp_path: Path) -> None:
    said = _start(tmp_path, 'cache_dir = "cache/{node}"\noutput_uri = "file://results/{job}/{name}"\n')
    assert "[data] output_uri = 'file://results/{job}/{name}' is a relative file URL" in said, said
    assert "file:///" in said, said  # what to give instead
    said = _start(tmp_path, 'cache_dir = "cache/{node}"\noutput_uri = "simplecache::local://out/{name}"\n')
    assert "is a relative file URL" in said, said


def test_a_home_of_no_such_user_names_the_key_and_value(tmp_path: Path) -> None:
    said = _start(tmp_path, 'cache_dir = "cache/{node}"\ncatalog = "~hal_no_such_user/cat.json"\n')
    assert "[data] catalog = '~hal_no_such_user/cat.json': no user 'hal_no_such_user'" in said, said


def test_a_cache_dir_without_node_says_why_it_needs_one(tmp_path: Path) -> None:
    said = _start(tmp_path, 'cache_dir = "cache"\n')
    assert "it takes {node}" not in said, said
    where = (tmp_path / "conf" / "cache").resolve()  # anchored to the cluster file's folder
    assert f"[data] cache_dir = '{where}': needs {{node}}, so that every node has a cache folder of its own" in said


def test_a_missing_catalog_folder_is_named_resolved(tmp_path: Path) -> None:
    said = _start(tmp_path, 'cache_dir = "cache/{node}"\ncatalog = "../state/cat.json"\n')
    assert f"its folder {(tmp_path / 'state').resolve()} does not exist" in said, said
    assert "/../" not in said, said

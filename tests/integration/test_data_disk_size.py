"""A dataset larger than the disk the node caches live on can never be staged, whatever cache_bytes says: it is
refused at submission, as one larger than cache_bytes is (it was accepted, and every stage-in failed with ENOSPC)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.store import Store, sqlite_url
from hal.data.catalog import Dataset
from hal.data.fit import data_fix
from hal.data.live_config import enable
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree


def test_an_input_larger_than_the_cache_disk_is_refused_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(switch_tree("two", "vn", 2, 2, "1G", 2))
    ctl = Controller(
        Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"), LocalExecutor(tmp_path / "spool")
    )
    disk = shutil.disk_usage(tmp_path).total
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": str(disk * 4)}  # more than the disk
    catalog = enable(ctl, {**data, "catalog": str(tmp_path / "catalog.json")}).stager.catalog
    catalog.register(Dataset("huge", disk + 1, "sha256:" + "0" * 64, "s3://bucket/huge"))
    catalog.register(Dataset("half", disk // 2 + 1, "sha256:" + "1" * 64, "s3://bucket/half"))
    catalog.register(Dataset("other", disk // 2 + 1, "sha256:" + "3" * 64, "s3://bucket/other"))
    catalog.register(Dataset("small", 1 << 20, "sha256:" + "2" * 64, "s3://bucket/small"))

    def submit(inputs: str) -> list[int]:
        request = build_request("#!/bin/sh\ntrue\n", {"input-data": inputs}, {}, str(tmp_path), 0)
        return ctl.submit(request, "al").job_ids

    with pytest.raises(SubmitError, match="larger than every node cache") as one:
        submit("huge")
    assert f"({disk:,} bytes: the size of the disk)" in str(one.value)
    with pytest.raises(SubmitError, match=r"inputs together .* the size of the disk"):
        submit("half,other")  # each fits the disk, not both at once
    assert submit("small") and submit("half")  # what fits is still taken
    assert "cache_dir on a larger disk" in str(data_fix(str(one.value), 7))

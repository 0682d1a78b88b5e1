"""A cancelled stage-out's landed copy: removed outside the controller's lock (a hung destination froze the
controller), and by the copy itself when its watcher gave up while the rename hung."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import hal.data.outputs
from hal.data.catalog import Replica
from hal.data.stage_out import copy_out
from hal.data.watch import Abandoned
from tests.integration.test_data_stage_out import _controller


def test_a_cancelled_copy_that_landed_is_removed_outside_the_controller_lock(tmp_path: Path, monkeypatch: Any) -> None:
    ctl, staging = _controller(tmp_path)
    outputs = staging.outputs
    assert outputs is not None
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "late").write_bytes(b"x" * 5000)
    uri = f"{tmp_path}/out/7/late"
    real_copy, real_unpublish, locked = staging.stager.copy_out, hal.data.outputs.unpublish, []

    def landed(*args: Any, **kwargs: Any) -> tuple[str, int]:
        got = real_copy(*args, **kwargs)
        outputs.cancelled[7] = "alice"  # the cancel, just after the rename
        return got

    def held() -> None:  # from another thread: the controller's lock is free, or held by _copy's thread
        if ctl.lock.acquire(blocking=False):
            ctl.lock.release()
            locked.append(False)
        else:
            locked.append(True)

    def unpublish(*args: Any, **kwargs: Any) -> None:
        other = threading.Thread(target=held)
        other.start()
        other.join()
        real_unpublish(*args, **kwargs)

    staging.stager.copy_out = landed  # type: ignore[method-assign]
    monkeypatch.setattr(hal.data.outputs, "unpublish", unpublish)
    outputs._copy(ctl, 7, "late", node, uri)
    outputs.shutdown()
    assert locked == [False]  # another thread could take the controller's lock meanwhile
    assert not Path(uri).exists() and "late" not in staging.stager.catalog.datasets


def _given_up_at_the_rename(took: Any) -> Any:
    def tick() -> None:
        if took():  # the copy took the destination's name
            raise Abandoned("given up on by its watcher")

    return tick


def test_a_copy_given_up_on_as_it_took_its_name_gives_it_back(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "late").write_bytes(b"x" * 5000)
    dest = tmp_path / "out" / "late"
    with pytest.raises(Abandoned):
        copy_out(staging.stager, 7, "late", node, str(dest), 1000, _given_up_at_the_rename(dest.exists))
    staging.shutdown()
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_an_earlier_tree_is_back_when_its_replacement_is_given_up_on(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    node = ctl.table.names[0]
    tree = staging.stager.open_job_dir(7, node, ()) / "ckpt"
    tree.mkdir()
    (tree / "a").write_bytes(b"new")
    dest = tmp_path / "out" / "ckpt"
    dest.mkdir(parents=True)
    (dest / "a").write_bytes(b"old")
    staging.stager.catalog.add_replica(Replica("ckpt", "origin", str(dest)))  # an earlier run's: may be replaced
    with pytest.raises(Abandoned):
        took = lambda: (dest / "a").is_file() and (dest / "a").read_bytes() == b"new"  # noqa: E731
        copy_out(staging.stager, 7, "ckpt", node, str(dest), 1000, _given_up_at_the_rename(took))
    staging.shutdown()
    assert (dest / "a").read_bytes() == b"old" and sorted(p.name for p in dest.parent.iterdir()) == ["ckpt"]

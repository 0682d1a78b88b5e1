"""Live staging: a real controller and local executor with two virtual nodes, each with a cache directory.

A job reading a dataset lands on the node that caches it; a second one, with that node busy, gets the data
copied (and checksummed) to the other node; a job whose dataset cannot be staged goes back to the queue
with the reason and finally fails with it, instead of being lost.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from hal.controller.contracts import SubmitError
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.machine import Machine
from hal.controller.option_values import DirectiveError
from hal.controller.placement_record import placement_of
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.catalog import Dataset
from hal.data.live import LiveStaging
from hal.data.live_config import enable
from hal.executors.local import LocalExecutor
from tests.clusters import switch_tree

CLUSTER = switch_tree("two", "vn", 2, 2, "1G", 2)
SCRIPT = '#!/bin/sh\nsha256sum "$HAL_DATA/reads" > "{out}"\nsleep {sleep}\n'


def _wait(ctl: Controller, ids: list[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while any(j in ctl.live for j in ids) and time.monotonic() < deadline:
        time.sleep(0.05)


def data_controller(tmp_path: Path, data: dict[str, object]) -> tuple[Controller, LiveStaging]:
    """An in-process controller on ``tmp_path``'s records and spool (CLUSTER), recovered, with the data plane
    ``data`` configures (caches in ``tmp_path/cache/<node>``)."""
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
    recover(ctl)
    return ctl, enable(ctl, {"cache_dir": str(tmp_path / "cache" / "{node}"), **data})


def test_jobs_meet_their_data(tmp_path: Path) -> None:
    data = {"cache_bytes": "4M", "attempts": 2, "backoff": 0.01, "max_requeues": 1, "requeue_wait": 0.2}
    ctl, staging = data_controller(tmp_path, {**data, "catalog": str(tmp_path / "catalog.json")})
    names = ctl.table.names
    stager, catalog, caches = staging.stager, staging.stager.catalog, staging.stager.caches
    src = tmp_path / "store" / "reads"
    src.parent.mkdir()
    src.write_bytes(b"GATTACA" * 10_000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    catalog.register_file("reads", str(src))
    catalog.register(Dataset("ghost", 5, "sha256:" + "0" * 64, str(tmp_path / "store" / "ghost")))
    stager.stage_in(0, ("reads",), [names[1]])
    stager.release(0)
    ctl.start()
    try:
        first = ctl.submit(build_request(SCRIPT.format(out=tmp_path / "a", sleep=2), {"input-data": "reads"}, {},
                                         str(tmp_path), 0), "alice").job_ids  # fmt: skip
        time.sleep(0.5)
        parts = placement_of(ctl.store.events_of(first[0])) or {}  # what `hal explain` shows
        assert parts["level"] == "node" and parts["bytes_to_move"] == 0.0
        second = ctl.submit(build_request(SCRIPT.format(out=tmp_path / "b", sleep=0), {"input-data": "reads",
                                          "ntasks": "2"}, {}, str(tmp_path), 0), "alice").job_ids  # fmt: skip
        ghost = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "ghost"}, {}, str(tmp_path), 0), "bob")
        _wait(ctl, first + second + ghost.job_ids)
    finally:
        ctl.stop()
    rows = {r["id"]: r for r in ctl.store.query()}
    assert rows[first[0]]["state"] == "COMPLETED" and rows[first[0]]["nodelist"] == names[1]  # went to its data
    assert rows[second[0]]["state"] == "COMPLETED" and rows[second[0]]["nodelist"] == names[0]  # data came to it
    assert (tmp_path / "a").read_text().split()[0] == digest == (tmp_path / "b").read_text().split()[0]
    assert (caches[names[0]].root / "reads").read_bytes() == src.read_bytes()
    lost = rows[ghost.job_ids[0]]
    assert lost["state"] == "FAILED" and "stage-in failed" in lost["cause"] and "source missing" in lost["cause"]
    assert lost["restarts"] == 1  # requeued once with the reason, then failed with it


def test_inputs_that_can_never_be_staged_are_refused_at_submission(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(
        Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"), LocalExecutor(tmp_path / "spool")
    )
    data = {"cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "1M"}
    catalog = enable(ctl, {**data, "catalog": str(tmp_path / "catalog.json")}).stager.catalog
    catalog.register(Dataset("huge", 5 << 20, "sha256:" + "0" * 64, str(tmp_path / "huge")))

    def submit(options: dict[str, str]) -> list[int]:
        return ctl.submit(build_request("#!/bin/sh\ntrue\n", options, {}, str(tmp_path), 0), "alice").job_ids

    with pytest.raises(SubmitError, match="unknown dataset 'nosuch'"):
        submit({"input-data": "nosuch"})
    with pytest.raises(SubmitError, match="larger than every node cache"):
        submit({"input-data": "huge"})
    producer = submit({"output-data": "made"})  # a pipeline: the input is what a queued job will write
    assert submit({"input-data": "made", "dependency": f"afterok:{producer[0]}"})
    # An output must be a new dataset: replacing one left stale copies that one job's nodes read side by side.
    with pytest.raises(SubmitError, match="already has a dataset 'huge'"):
        submit({"output-data": "huge"})
    with pytest.raises(SubmitError, match="already declares that output"):
        submit({"output-data": "made"})
    with pytest.raises(SubmitError, match="every task would write the same dataset"):
        submit({"output-data": "each", "array": "0-3"})
    with pytest.raises(DirectiveError, match="'twice' is named twice"):  # it jammed every reader of it
        submit({"output-data": "twice,twice"})
    catalog.register(Dataset("half", 700_000, "sha256:" + "1" * 64, str(tmp_path / "half")))
    catalog.register(Dataset("other", 700_000, "sha256:" + "2" * 64, str(tmp_path / "other")))
    with pytest.raises(SubmitError, match="inputs together"):  # each fits a 1 MB cache, both never do
        submit({"input-data": "half,other"})
    ctl.stop()


def test_a_restart_resumes_stage_out_and_serves_only_cataloged_cache_files(tmp_path: Path) -> None:
    """What a controller killed mid-stage-out leaves behind (no settled STAGE_OUT event, no copy at the
    destination) is put right by the next one; a stray file in a cache is kept unmatched, never served."""
    import sqlalchemy as sa

    from hal.controller.store import job_events
    from hal.data.outputs import states_from_events

    (tmp_path / "c.toml").write_text(CLUSTER)
    data = {
        "cache_dir": str(tmp_path / "cache" / "{node}"), "cache_bytes": "4M", "catalog": str(tmp_path / "cat.json"),
        "output_uri": str(tmp_path / "out" / "{job}" / "{name}"),
    }  # fmt: skip

    def controller() -> tuple[Controller, LiveStaging]:
        ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                         LocalExecutor(tmp_path / "spool", kill_wait=1.0))  # fmt: skip
        recover(ctl)
        return ctl, enable(ctl, data)

    ctl, staging = controller()
    assert staging.outputs is not None
    ctl.start()
    try:
        script = '#!/bin/sh\necho result > "$HAL_DATA/res"\n'
        (job,) = ctl.submit(build_request(script, {"output-data": "res"}, {}, str(tmp_path), 0), "alice").job_ids
        _wait(ctl, [job])
        assert staging.outputs.wait(30.0)
    finally:
        ctl.stop()
        staging.outputs.shutdown()
        staging.owned.release()  # as a killed server's: the kernel drops its locks
    with ctl.store.engine.begin() as conn:  # as if the controller died before the copy settled
        conn.execute(sa.delete(job_events).where(job_events.c.state == "STAGE_OUT"))
    (tmp_path / "out" / str(job) / "res").unlink()
    node = str((ctl.store.get(job) or {})["nodelist"])
    folder = tmp_path / "cache" / node / ".jobs" / str(job)  # the output is still in the job's $HAL_DATA
    folder.mkdir(parents=True)
    (tmp_path / "cache" / node / "res").replace(folder / "res")
    stray = tmp_path / "cache" / ctl.table.names[1] / "stray"
    stray.write_text("left by a job")
    over = tmp_path / "cache" / ctl.table.names[1] / ".jobs" / "999"  # the $HAL_DATA of a job long gone
    over.mkdir(parents=True)
    (over / "scratch").write_text("tmp")
    again, resumed = controller()
    counts = resumed.resume(again, since=0.0)
    assert resumed.outputs is not None and resumed.outputs.wait(30.0)
    resumed.outputs.shutdown()
    assert counts["outputs"] == 1 and counts["dropped"] == 0 and not over.exists() and stray.exists()
    assert counts["unmatched"] == 1 and "stray" in resumed.stager.caches[stray.parent.name].unverified  # kept
    assert not folder.exists()  # published into the cache again
    assert (tmp_path / "out" / str(job) / "res").read_text() == "result\n"
    assert states_from_events(again.store.events_of(job))["res"].startswith("done")


def _two_700k_datasets(tmp_path: Path, extra: dict[str, object]) -> tuple[Controller, LiveStaging]:
    """Two nodes with 1 MB caches and two 700 kB datasets: one job's input fills a node's cache."""
    ctl, staging = data_controller(tmp_path, {"cache_bytes": "1M", **extra, "catalog": str(tmp_path / "catalog.json")})
    for name in ("first", "second"):
        src = tmp_path / "store" / name
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(name.encode()[:1] * 700_000)
        staging.stager.catalog.register_file(name, str(src))
    return ctl, staging


def test_a_node_whose_cache_is_held_by_running_jobs_is_not_chosen_while_another_can_take_the_input(
    tmp_path: Path,
) -> None:
    """Best fit put the second job beside the first (a partly used node), whose cache the first job's input
    held: it waited for cache room (doubling back-offs) while the other node sat idle with an empty cache."""
    ctl, staging = _two_700k_datasets(tmp_path, {"cache_wait": 30})
    ctl.start()
    try:
        (first,) = ctl.submit(build_request("#!/bin/sh\nsleep 4\n", {"input-data": "first"}, {}, str(tmp_path), 0),
                              "al").job_ids  # fmt: skip
        deadline = time.monotonic() + 20
        while (ctl.store.get(first) or {}).get("state") != "RUNNING" or first in staging.staging:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (second,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "second"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        _wait(ctl, [second], timeout=20)
        assert first in ctl.live  # the second ran while the first still held its node's cache
    finally:
        ctl.stop()
    one, two = ctl.store.get(first) or {}, ctl.store.get(second) or {}
    assert two.get("state") == "COMPLETED" and staging.cache_waits.get(second, 0) == 0
    assert one["nodelist"] != two["nodelist"]


def _pin_both_caches(ctl: Controller, staging: LiveStaging, tmp_path: Path, seconds: int) -> int:
    """A job on both nodes whose input holds 700 kB of each 1 MB cache for ``seconds``, once it runs."""
    one = {"input-data": "first", "nodes": "2", "ntasks-per-node": "1"}
    (first,) = ctl.submit(build_request(f"#!/bin/sh\nsleep {seconds}\n", one, {}, str(tmp_path), 0), "al").job_ids
    deadline = time.monotonic() + 20
    while (ctl.store.get(first) or {}).get("state") != "RUNNING" or first in staging.staging:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return int(first)


def test_a_stage_in_that_finds_the_caches_pinned_waits_instead_of_failing(tmp_path: Path) -> None:
    """Both caches are full of a running job's input: the next job goes back to wait (BeginTime, no restart
    counted) and runs once the first has ended, instead of failing after its requeues."""
    ctl, staging = _two_700k_datasets(tmp_path, {"cache_wait": 0.5, "max_requeues": 0})
    ctl.start()
    try:
        first = _pin_both_caches(ctl, staging, tmp_path, 3)
        script = '#!/bin/sh\nhead -c 1 "$HAL_DATA/second" > "{out}"\n'.format(out=tmp_path / "got")
        (second,) = ctl.submit(build_request(script, {"input-data": "second"}, {}, str(tmp_path), 0), "al").job_ids
        _wait(ctl, [first, second], timeout=60)
    finally:
        ctl.stop()
    row = ctl.store.get(second) or {}
    assert row.get("state") == "COMPLETED" and row.get("restarts") == 0, row
    assert (tmp_path / "got").read_text() == "s" and staging.cache_waits.get(second, 0) >= 1


def test_a_job_waiting_for_cache_room_tries_again_when_the_room_is_freed(tmp_path: Path) -> None:
    """Its back-off (here 120 s) ran to the end while the pinning job had long ended and the cache was free."""
    ctl, staging = _two_700k_datasets(tmp_path, {"cache_wait": 120, "max_requeues": 0})
    ctl.start()
    try:
        first = _pin_both_caches(ctl, staging, tmp_path, 2)
        (second,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "second"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        _wait(ctl, [first, second], timeout=40)  # long before the 120 s back-off
    finally:
        ctl.stop()
    row = ctl.store.get(second) or {}
    assert row.get("state") == "COMPLETED" and staging.cache_waits.get(second, 0) >= 1, row
    begin = json.loads(row["request"])["begin"]  # QA: hal show's EligibleTime (the stored hold) was after its start
    assert begin is not None and begin <= row["start_time"], (begin, row["start_time"])


def test_a_stage_in_that_fails_is_held_before_its_next_attempt_and_survives_a_brief_outage(tmp_path: Path) -> None:
    """The dataset's storage is down when the job first stages: the job is requeued and held (BeginTime)
    for ``requeue_wait`` s instead of trying again at once, and runs once the storage is back."""
    data = {"cache_bytes": "1M", "attempts": 1, "backoff": 0, "max_requeues": 1, "requeue_wait": 2.0}
    ctl, staging = data_controller(tmp_path, {**data, "catalog": str(tmp_path / "cat.json")})
    body = b"x" * 1000
    staging.stager.catalog.register(
        Dataset("flaky", len(body), "sha256:" + hashlib.sha256(body).hexdigest(), str(tmp_path / "store" / "flaky"))
    )
    ctl.start()
    try:
        script = '#!/bin/sh\nwc -c < "$HAL_DATA/flaky" > "{out}"\n'.format(out=tmp_path / "got")
        (job,) = ctl.submit(build_request(script, {"input-data": "flaky"}, {}, str(tmp_path), 0), "al").job_ids
        deadline = time.monotonic() + 20
        while (ctl.store.get(job) or {}).get("restarts") != 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        held = ctl.live[job].spec.begin_time
        assert held is not None and held >= ctl.clock() + 1.0  # held, not retried at once
        assert ctl.annotate([ctl.store.get(job) or {}])[0]["reason"] == "StageInRetry"  # not the user's --begin
        row = ctl.store.get(job) or {}
        assert "source missing" in row["cause"]  # `hal show` Cause says what failed
        assert json.loads(row["request"])["begin"] == held  # kept for a restart, which retried at once
        from hal.controller.auth import Identity
        from hal.controller.holds import set_hold

        for hold in (True, False):  # QA: a hold and release made it BeginTime and lost the stage-in error
            set_hold(ctl, str(job), Identity("al", admin=False), hold)
        assert ctl.annotate([ctl.store.get(job) or {}])[0]["reason"] == "StageInRetry"
        assert "source missing" in (ctl.store.get(job) or {})["cause"]
        (tmp_path / "store").mkdir()
        (tmp_path / "store" / "flaky").write_bytes(body)  # the storage is back before the hold ends
        _wait(ctl, [job], timeout=30)
    finally:
        ctl.stop()
    row = ctl.store.get(job) or {}
    assert row.get("state") == "COMPLETED" and row.get("restarts") == 1, row
    assert (tmp_path / "got").read_text().strip() == "1000"
    from hal.controller.attempts import attempts_of

    (earlier,) = attempts_of(ctl.store, [job])[job]  # QA: sacct -D said NODE_FAIL, though no node failed
    assert earlier["state"] == "REQUEUED" and "source missing" in earlier["cause"], earlier


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("requeue_wait", -1, "requeue_wait must be >= 0"), ("cache_wait", "soon", "cache_wait must be a number"),
     ("attempts", 0, "attempts must be at least 1"), ("max_requeues", 1.5, "max_requeues must be a whole number"),
     ("cache_size", "1M", r"unknown key.*cache_size"), ("cache_bytes", -5, "cache_bytes must be a positive"),
     ("cache_bytes", "abc", "cache_bytes must be a positive"), ("cache_bytes", "1.5X", "cache_bytes must be"),
     ("output_uri", "/out/{jobid}/{name}", r"unknown placeholder \{jobid\}"),
     ("output_uri", "/out/x", r"needs \{name\}"), ("stall_timeout", True, "stall_timeout must be a number"),
     ("stall_timeout", 0, "stall_timeout must be > 0")],
)  # fmt: skip
def test_bad_retry_settings_are_refused_with_the_key(tmp_path: Path, key: str, value: object, message: str) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(tmp_path / "c.toml"),
                     LocalExecutor(tmp_path / "spool"))  # fmt: skip
    with pytest.raises(ValueError, match=message):
        enable(ctl, {"cache_dir": str(tmp_path / "cache" / "{node}"), key: value})
    with pytest.raises(ValueError, match=r"needs \{node\}"):  # one folder for all nodes: evictions collide
        enable(ctl, {"cache_dir": str(tmp_path / "shared")})


def test_the_transfer_costs_placement_scores_are_set_in_the_data_table(tmp_path: Path) -> None:
    """QA: bandwidths and egress prices were fixed in code, so `hal explain` always said egress $0.00."""
    data = {"bandwidth": ["10G", "1G"], "latency": [0.0, 0.01], "egress_per_gb": {"cloud": 0.09}, "delay_min": 5}
    ctl, _ = data_controller(tmp_path, {**data, "delay": 30})
    model = ctl.book.select.data.model  # type: ignore[union-attr]
    assert ctl.book.select.args.data_delay_min == 5.0  # type: ignore[union-attr]  (QA: 60 s, fixed in code)
    assert model.bandwidth == (float("inf"), 10 * 2**30, 2**30) and model.egress_per_gb == {"cloud": 0.09}
    (tmp_path / "bad").mkdir()
    with pytest.raises(ValueError, match="bandwidth is a list of rates per second"):
        data_controller(tmp_path / "bad", {"bandwidth": "fast"})

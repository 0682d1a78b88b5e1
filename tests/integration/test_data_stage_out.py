"""Stage-out: `hal server`'s [data] table turns the data plane on; declared outputs are copied after the job
ends, on worker threads, so a transfer that blocks never stalls the controller."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.cli.show import _data_lines
from hal.controller.auth import Identity
from hal.controller.core import Controller
from hal.controller.directives import build_request
from hal.controller.drain import resume
from hal.controller.holds import set_hold
from hal.controller.machine import Machine
from hal.controller.recovery import recover
from hal.controller.store import Store, sqlite_url
from hal.data.catalog import Dataset
from hal.data.live import LiveStaging
from hal.data.live_config import data_table, enable
from hal.data.outputs import abandon_data_jobs, states_from_events
from hal.data.owner import CACHE_LOCK
from hal.executors.local import LocalExecutor
from tests.integration.livekit import gated
from tests.integration.test_data_live import CLUSTER

DATA = """
[data]
cache_dir = "{root}/cache/{{node}}"
cache_bytes = "4M"
catalog = "{root}/catalog.json"
output_uri = "{root}/out/{{job}}/{{name}}"
"""
SCRIPT = '#!/bin/sh\nhead -c 300000 /dev/urandom > "$HAL_DATA/result"\n'


def _controller(tmp_path: Path) -> tuple[Controller, LiveStaging]:
    path = tmp_path / "c.toml"
    path.write_text(CLUSTER + DATA.format(root=tmp_path))
    ctl = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool"))
    recover(ctl)
    table = data_table(path)
    assert table is not None and data_table(None) is None
    return ctl, enable(ctl, table)


def _over(ctl: Any, *jobs: int) -> Callable[[], bool]:
    """Whether the jobs left ``ctl.live``, read under the controller's lock: the pass that drops a job commits its
    ended record before it lets the lock go, while a read without the lock can fall between the two (CI read a
    job's record RUNNING after it had left ``ctl.live``)."""

    def over() -> bool:
        with ctl.lock:
            return all(j not in ctl.live for j in jobs)

    return over


def _until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_outputs_staged_out_and_registered(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    ctl.start()
    try:
        req = build_request(SCRIPT, {"output-data": "result"}, {}, str(tmp_path), 0)
        (jid,) = ctl.submit(req, "alice").job_ids
        _until(_over(ctl, jid))
        assert staging.outputs.wait(30.0)
    finally:
        ctl.stop()
        staging.outputs.shutdown()
    assert (ctl.store.get(jid) or {}).get("state") == "COMPLETED"
    assert staging.outputs.state_of(jid) == {"result": "done"}
    dest = tmp_path / "out" / str(jid) / "result"
    dataset = staging.stager.catalog.get("result")
    assert dataset.checksum == "sha256:" + hashlib.sha256(dest.read_bytes()).hexdigest() and dataset.size == 300000
    assert {r.location for r in staging.stager.catalog.replicas_of("result")} >= {"origin"}
    events = ctl.store.events_of(jid)
    assert states_from_events(events)["result"].startswith("done (300000 bytes to ")
    # Slurm's SO between the end of its processes and its last output, then COMPLETED
    assert [e["state"] for e in events if e["state"] != "PLACED"][-4:] == [
        "RUNNING",
        "STAGE_OUT",
        "STAGE_OUT",
        "COMPLETED",
    ]
    assert events[-1]["cause"] == "completed; outputs staged out"


def test_a_blocked_transfer_does_not_stall_the_controller(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    node = ctl.table.names[0]
    (staging.stager.open_job_dir(7, node, ()) / "big").write_bytes(b"x" * 100_000)
    sink = tmp_path / "slow-sink"
    GatedFS.gates["slow-sink"] = gate = threading.Event()  # a destination that takes nothing until opened
    staging.outputs.dest = f"halgated://{sink}"
    t0 = time.monotonic()
    with ctl.lock:
        staging.outputs.after_end(ctl, 7, ("big",), node, "COMPLETED")
    assert time.monotonic() - t0 < 1.0 and staging.outputs.state_of(7) == {"big": "staging"}
    ctl.start()
    try:  # the loop still runs jobs while the copy waits
        (jid,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {}, {}, str(tmp_path), 0), "bob").job_ids
        _until(_over(ctl, jid))
        assert (ctl.store.get(jid) or {}).get("state") == "COMPLETED"
        assert staging.outputs.state_of(7) == {"big": "staging"}
        from hal.controller.contracts import SubmitError

        with pytest.raises(SubmitError, match="an ended job's output of that name is being staged out"):
            ctl.submit(build_request("#!/bin/sh\ntrue\n", {"output-data": "big"}, {}, str(tmp_path), 0), "bob")
        gate.set()
        assert staging.outputs.wait(30.0)
        got = [sink.read_bytes()]
    finally:
        ctl.stop()
        staging.outputs.shutdown()
    assert got == [b"x" * 100_000] and staging.outputs.state_of(7) == {"big": "done"}


def test_missing_output_fails_with_its_reason(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    with ctl.lock:
        staging.outputs.after_end(ctl, 9, ("never",), ctl.table.names[1], "COMPLETED")
    assert staging.outputs.wait(30.0)
    staging.outputs.shutdown()
    state = staging.outputs.state_of(9)["never"]
    assert state.startswith("failed:") and "was not written" in state
    # What `hal show` reads: the job's STAGE_OUT events, which outlive the stager's table (a restart).
    told = states_from_events(ctl.store.events_of(9))
    assert told == {"never": state}
    job = {"output_data": ["never", "other"], "stage_out": told, "placement_request": {}}
    assert _data_lines(job)[-1] == f"   StageOut=never:{state} other:not staged"


class GatedFS(LocalFileSystem):  # type: ignore[misc]
    """Local files behind a gate: reads wait until the test opens it (a transfer that hangs, then resumes)."""

    protocol = "halgated"
    gates: ClassVar[dict[str, threading.Event]] = {}

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halgated://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        name = Path(path).name.split("~partial")[0]  # a stage-out writes NAME~partial-... and renames it
        if "r" in mode or name in self.gates:
            self.gates[name].wait(60)
        return super()._open(path, mode, *args, **kwargs)


fsspec.register_implementation("halgated", GatedFS, clobber=True)


def _slow_dataset(tmp_path: Path, staging: LiveStaging, name: str) -> threading.Event:
    """A dataset whose only source is behind a gate: its stage-in hangs until the test opens the gate."""
    src = tmp_path / name
    src.write_bytes(name.encode() * 5000)
    digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    staging.stager.catalog.register(Dataset(name, src.stat().st_size, digest, f"halgated://{src}"))
    GatedFS.gates[name] = threading.Event()
    return GatedFS.gates[name]


def test_a_slow_stage_in_does_not_stall_the_controller(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "slow")
    script = '#!/bin/sh\nsha256sum "$HAL_DATA/slow" > "{out}"\n'.format(out=tmp_path / "got")
    ctl.start()
    try:
        (waiting,) = ctl.submit(build_request(script, {"input-data": "slow"}, {}, str(tmp_path), 0), "alice").job_ids
        _until(lambda: waiting in staging.staging)
        (other,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {}, {}, str(tmp_path), 0), "bob").job_ids
        # the loop ran another job while the copy hung (its record is committed after it leaves ctl.live)
        _until(lambda: (ctl.store.get(other) or {}).get("state") == "COMPLETED")
        assert (ctl.store.get(other) or {}).get("state") == "COMPLETED" and waiting in staging.staging
        shown = ctl.annotate([ctl.store.get(waiting) or {}])[0]
        assert shown["state"] == "CONFIGURING"  # holds its nodes while its input arrives: squeue's CF
        gate.set()
        _until(_over(ctl, waiting))
    finally:
        ctl.stop()
    assert (ctl.store.get(waiting) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "got").read_text().split()[0] == hashlib.sha256((tmp_path / "slow").read_bytes()).hexdigest()


def test_cancelled_while_staging(tmp_path: Path) -> None:
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "hang")
    ctl.start()
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"input-data": "hang"}, {}, str(tmp_path), 0)
        (jid,) = ctl.submit(req, "alice").job_ids
        _until(lambda: jid in staging.staging)
        ctl.cancel(str(jid), Identity("alice", admin=False))
        row = ctl.store.get(jid) or {}  # in the records at once, while the copy still hangs (a restart ran it)
        assert row.get("state") == "CANCELLED" and "while its inputs were staged" in str(row.get("cause"))
        assert jid not in ctl.live and (ctl.store.get(jid) or {}).get("end_time") is not None
        gate.set()
        _until(lambda: jid not in staging.staging)
    finally:
        ctl.stop()
    assert (ctl.store.get(jid) or {}).get("state") == "CANCELLED"


def test_a_job_caught_staging_by_a_dead_controller_goes_back_to_the_queue(tmp_path: Path) -> None:
    """Its script never ran (no trace in the spool), so it is requeued even without --requeue, not NODE_FAIL; a
    requeue, it counts in Restarts as a failed stage-in's does (it showed 0, QA), using up no stage-in retry."""
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "stuck")
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "stuck"}, {}, str(tmp_path), 0),
                            "alice").job_ids  # fmt: skip
        _until(lambda: job in staging.staging)
        # A second controller on the same records and spool: what a restart after SIGKILL finds.
        path = tmp_path / "c.toml"
        after = Controller(
            Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool")
        )
        recover(after)
        row = after.store.get(job) or {}
        assert row.get("state") == "PENDING" and row.get("restarts") == 1, row
    finally:
        gate.set()
        ctl.stop()


def test_a_consumer_waits_for_its_producers_stage_out(tmp_path: Path) -> None:
    """A pipeline (afterok + the producer's declared output as input): the producer is in STAGE_OUT while its
    output is copied out, and its afterok dependents wait (Dependency) until that settles, as Slurm's do after a
    burst buffer's stage-out; then the consumer runs and reads it."""
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    GatedFS.gates["piped"] = gate = threading.Event()  # the producer's stage-out hangs until the test opens it
    staging.outputs.dest = f"halgated://{tmp_path}/out/{{job}}/{{name}}"
    ctl.start()
    try:
        write = '#!/bin/sh\necho made-by-producer > "$HAL_DATA/piped"\n'
        (producer,) = ctl.submit(build_request(write, {"output-data": "piped"}, {}, str(tmp_path), 0), "al").job_ids
        read = '#!/bin/sh\ncat "$HAL_DATA/piped" > "{out}"\n'.format(out=tmp_path / "read")
        opts = {"input-data": "piped", "dependency": f"afterok:{producer}"}
        (consumer,) = ctl.submit(build_request(read, opts, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: (ctl.store.get(producer) or {}).get("state") == "STAGE_OUT")
        time.sleep(0.5)
        assert staging.outputs.in_flight(["piped"]) == {"piped"} and consumer not in staging.staging
        assert ctl.live[consumer].state == "PENDING" and ctl.reason(consumer) == "Dependency"
        gate.set()
        _until(_over(ctl, consumer))
        assert (ctl.store.get(producer) or {}).get("state") == "COMPLETED"
    finally:
        gate.set()
        ctl.stop()
        staging.outputs.shutdown()
    assert (ctl.store.get(consumer) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "read").read_text() == "made-by-producer\n"


class SlowFS(LocalFileSystem):  # type: ignore[misc]
    """Local files that arrive slowly: each read waits, so a copy takes many chunks' time (a large transfer)."""

    protocol = "halslow"
    reads: ClassVar[list[int]] = []
    pause: ClassVar[float] = 0.05

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halslow://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        inner = super()._open(path, mode, *args, **kwargs)
        real_read = inner.read

        def read(n: int = -1) -> bytes:
            time.sleep(SlowFS.pause)
            SlowFS.reads.append(n)
            return bytes(real_read(n))

        inner.read = read
        return inner


fsspec.register_implementation("halslow", SlowFS, clobber=True)


def test_stopping_the_server_cuts_a_long_stage_in_and_the_next_start_runs_the_job(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """SIGTERM's path (`LiveStaging.shutdown`) stops a copy within a chunk instead of waiting for the whole
    transfer; nothing partial stays in the cache, and the next start requeues the job, which then runs."""
    import hal.data.stager

    monkeypatch.setattr(hal.data.stager, "CHUNK", 1024)  # 200 chunks: the copy would take ~10 s
    ctl, staging = _controller(tmp_path)
    src = tmp_path / "big"
    src.write_bytes(b"0123456789" * 20_480)
    digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    staging.stager.catalog.register(Dataset("big", src.stat().st_size, digest, f"halslow://{src}"))
    SlowFS.reads.clear()
    script = '#!/bin/sh\nsha256sum "$HAL_DATA/big" > "{out}"\n'.format(out=tmp_path / "got")
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(script, {"input-data": "big"}, {}, str(tmp_path), 0), "alice").job_ids
        _until(lambda: len(SlowFS.reads) >= 5)
    finally:
        ctl.stop()
        staging.shutdown()
    assert len(SlowFS.reads) < 100  # stopped within a chunk, not after the 200 the copy needs
    caches = tmp_path / "cache"
    assert not [p for p in caches.rglob("*") if p.is_file() and p.name != CACHE_LOCK]  # nothing partial left
    SlowFS.pause = 0.0
    try:
        again, resumed = _controller(tmp_path)
        assert (again.store.get(job) or {}).get("state") == "PENDING"  # never ran: requeued, not NODE_FAIL
        again.start()
        _until(lambda: job not in again.live)
        again.stop()
        resumed.shutdown()
    finally:
        SlowFS.pause = 0.05
    assert (again.store.get(job) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "got").read_text().split()[0] == digest.removeprefix("sha256:")


def test_a_restart_keeps_the_files_of_running_jobs_and_unstaged_outputs(tmp_path: Path) -> None:
    """The restart's cache clean-up deleted a running job's declared output and its scratch files (the job then
    'completed' with its output gone); it now leaves the files of running jobs alone."""
    ctl, staging = _controller(tmp_path)
    go = tmp_path / "go"  # the job runs across the restart and ends once the new controller runs
    script = (
        '#!/bin/sh\necho early > "$HAL_DATA/res"\necho tmp > "$HAL_DATA/scratch"\n{wait}\n'
        'cat "$HAL_DATA/res" "$HAL_DATA/scratch" > "{out}"\n'
    ).format(out=tmp_path / "seen", wait=gated(go))
    ctl.start()
    try:
        (job,) = ctl.submit(build_request(script, {"output-data": "res"}, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: list((tmp_path / "cache").rglob("scratch")))
    finally:
        ctl.stop()  # the controller goes; the job runs on
        assert staging.outputs is not None
        staging.outputs.shutdown()
        staging.owned.release()  # as a killed server's: the kernel drops its locks
    again, resumed = _controller(tmp_path)  # a restart: recovered records, a new data plane
    counts = resumed.resume(again, since=0.0)
    assert counts["kept"] == 1 and counts["dropped"] == 0, counts
    again.start()
    go.touch()
    try:
        _until(lambda: job not in again.live)
        assert resumed.outputs is not None and resumed.outputs.wait(30.0)
    finally:
        again.stop()
        resumed.shutdown()
    assert (again.store.get(job) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "seen").read_text() == "early\ntmp\n"
    assert (tmp_path / "out" / str(job) / "res").read_text() == "early\n"  # staged out after all


def _stranded_in_stage_out(tmp_path: Path) -> tuple[int, int]:
    """A writer whose stage-out a stopping controller cut (it stays STAGE_OUT), and a job waiting on it."""
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    GatedFS.gates["held"] = gate = threading.Event()
    staging.outputs.dest = f"halgated://{tmp_path}/gated/{{job}}/{{name}}"
    ctl.start()
    try:
        write = '#!/bin/sh\necho kept > "$HAL_DATA/held"\n'
        (writer,) = ctl.submit(build_request(write, {"output-data": "held"}, {}, str(tmp_path), 0), "al").job_ids
        after = {"dependency": f"afterok:{writer}"}
        (waiting,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", after, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: (ctl.store.get(writer) or {}).get("state") == "STAGE_OUT")
        time.sleep(0.2)
        assert ctl.reason(waiting) == "Dependency"
    finally:
        ctl.stop()
        staging.stager.closing.set()  # the copy stops at its next chunk, settling nothing
        gate.set()
        staging.shutdown()
    assert (ctl.store.get(writer) or {}).get("state") == "STAGE_OUT"
    return writer, waiting


def test_a_job_left_in_stage_out_by_a_stopped_server_ends_once_after_the_restart(tmp_path: Path) -> None:
    writer, waiting = _stranded_in_stage_out(tmp_path)
    again, resumed = _controller(tmp_path)
    assert resumed.resume(again, since=0.0)["outputs"] == 1
    again.start()
    try:
        _until(lambda: waiting not in again.live)
    finally:
        again.stop()
        resumed.shutdown()
    assert (again.store.get(writer) or {}).get("state") == "COMPLETED"
    assert (tmp_path / "out" / str(writer) / "held").read_text() == "kept\n"
    assert (again.store.get(waiting) or {}).get("state") == "COMPLETED"  # its afterok held until the copy landed
    ends = [e["state"] for e in again.store.events_of(writer) if e["state"] in ("COMPLETED", "FAILED")]
    assert ends == ["COMPLETED"]


def test_a_server_without_a_stage_out_destination_fails_jobs_left_in_stage_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """... and the next start with a data plane keeps the output in its node cache, saying so once."""
    writer, waiting = _stranded_in_stage_out(tmp_path)
    path = tmp_path / "plain.toml"
    path.write_text(CLUSTER)
    again = Controller(Store(sqlite_url(tmp_path / "hal.db")), Machine.load(path), LocalExecutor(tmp_path / "spool"))
    recover(again)
    assert abandon_data_jobs(again, "no [data]") == {"stage_out": 1}
    row = again.store.get(writer) or {}
    assert row["state"] == "FAILED" and row["cause"] == "outputs never staged out: no [data]"
    again.start()
    try:
        _until(lambda: again.reason(waiting) == "DependencyNeverSatisfied", timeout=10)
    finally:
        again.stop()
    assert again.reason(waiting) == "DependencyNeverSatisfied"
    (held,) = (tmp_path / "cache").glob(f"*/.jobs/{writer}/held")
    for start in (1, 2):  # said by the first start with a data plane only; kept by every one
        caplog.clear()
        later, resumed = _controller(tmp_path)
        resumed.resume(later, since=0.0)
        resumed.shutdown()
        assert held.read_text() == "kept\n", start
        told = f"job {writer}: output 'held' never reached its destination (no [data]); kept at {held}"
        assert (told in caplog.text) == (start == 1), caplog.text
    assert states_from_events(later.store.events_of(writer))["held"] == f"failed: no [data] (kept at {held})"


def test_reading_a_queued_jobs_output_waits_for_that_job(tmp_path: Path) -> None:
    """An input that a queued job will write, named without --dependency: the writer becomes an implicit afterok,
    so the reader waits (Dependency) instead of starting at once and failing with 'unknown dataset'."""
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        write = '#!/bin/sh\nsleep 1\necho from-writer > "$HAL_DATA/made"\n'
        (writer,) = ctl.submit(build_request(write, {"output-data": "made"}, {}, str(tmp_path), 0), "al").job_ids
        read = '#!/bin/sh\ncat "$HAL_DATA/made" > "{out}"\n'.format(out=tmp_path / "read")
        (reader,) = ctl.submit(build_request(read, {"input-data": "made"}, {}, str(tmp_path), 0), "al").job_ids
        shown = ctl.annotate([ctl.store.get(reader) or {}])[0]
        assert shown["state"] == "PENDING" and shown["reason"] == "Dependency"
        _until(_over(ctl, reader))
    finally:
        ctl.stop()
        assert staging.outputs is not None
        staging.outputs.shutdown()
    row = ctl.store.get(reader) or {}
    assert row.get("state") == "COMPLETED" and row.get("restarts") == 0, row
    assert (tmp_path / "read").read_text() == "from-writer\n"
    assert [d[:3] for d in json.loads(row["request"])["_deps"]] == [["afterok", writer, None]]  # (kind, job, array)


def test_a_writer_that_did_not_write_its_output_fails_and_its_reader_never_starts(tmp_path: Path) -> None:
    """The writer exited 0 without writing its declared output: it FAILED with the reason (it ended COMPLETED, so
    its reader's afterok let the reader start and fail on a dataset that did not exist), and the reader waits
    as after any failed afterok (DependencyNeverSatisfied), as in Slurm."""
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        (writer,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"output-data": "never"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        (reader,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "never"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        from hal.controller.contracts import SubmitError

        rescue = {"input-data": "never", "dependency": f"afternotok:{writer}"}  # QA: it started with nothing to read
        with pytest.raises(SubmitError, match=f"job {writer} writes 'never'.*afterok, not afternotok"):
            ctl.submit(build_request("#!/bin/sh\ntrue\n", rescue, {}, str(tmp_path), 0), "al")
        _until(lambda: writer not in ctl.live, timeout=30)
        _until(lambda: ctl.annotate([ctl.store.get(reader) or {}])[0]["reason"] == "DependencyNeverSatisfied")
    finally:
        ctl.stop()
        staging.shutdown()
    row = ctl.store.get(writer) or {}
    assert row.get("state") == "FAILED" and row["cause"] == "declared output(s) not written: $HAL_DATA/never", row
    assert (ctl.store.get(reader) or {}).get("state") == "PENDING"
    assert [d[:3] for d in json.loads((ctl.store.get(reader) or {})["request"])["_deps"]] == [["afterok", writer, None]]
    assert not list((tmp_path / "cache").rglob(".jobs/*"))  # nothing of the writer left in a cache


def test_a_failed_jobs_leftovers_are_never_published_and_jobs_see_only_their_inputs(tmp_path: Path) -> None:
    """A failed writer's file stayed in the shared cache, and a later writer of the same name that wrote
    nothing published it as its output; every job also saw (and could rewrite) every cached dataset."""
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        stale = '#!/bin/sh\necho stale > "$HAL_DATA/out"\nexit 1\n'
        (first,) = ctl.submit(build_request(stale, {"output-data": "out"}, {}, str(tmp_path), 0), "al").job_ids
        _until(_over(ctl, first))
        (second,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"output-data": "out"}, {}, str(tmp_path), 0),
                               "al").job_ids  # fmt: skip
        _until(_over(ctl, second))
        look = '#!/bin/sh\nls -A "$HAL_DATA" > "{out}"\n'.format(out=tmp_path / "seen")
        (third,) = ctl.submit(build_request(look, {}, {}, str(tmp_path), 0), "bob").job_ids
        _until(_over(ctl, third))
    finally:
        ctl.stop()
        staging.shutdown()
    assert (ctl.store.get(first) or {}).get("state") == "FAILED"
    assert (ctl.store.get(second) or {}).get("state") == "FAILED"  # not COMPLETED with the first one's file
    assert "out" not in staging.stager.catalog.datasets and not (tmp_path / "out" / str(second)).exists()
    assert (tmp_path / "seen").read_text() == ""  # its own, empty $HAL_DATA


def test_reading_another_users_queued_output_is_refused_not_a_hidden_dependency(tmp_path: Path) -> None:
    """Alice's reader silently waited on bob's held writer, which she can neither see nor cancel."""
    from hal.controller.contracts import SubmitError

    ctl, staging = _controller(tmp_path)
    try:
        ctl.submit(build_request("#!/bin/sh\ntrue\n", {"output-data": "model", "hold": True}, {}, str(tmp_path), 0),
                   "bob")  # fmt: skip
        with pytest.raises(SubmitError, match="another user's queued or running job will write it"):
            ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "model"}, {}, str(tmp_path), 0), "alice")
        (mine,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {"input-data": "model"}, {}, str(tmp_path), 0),
                             "bob").job_ids  # fmt: skip
        assert json.loads((ctl.store.get(mine) or {})["request"])["_deps"][0][0] == "afterok"
    finally:
        staging.shutdown()


def test_a_linked_or_empty_folder_output_fails_the_job_and_leaves_no_folder(tmp_path: Path) -> None:
    """A symbolic link as an output was COMPLETED, then failed its stage-out ('not written') and left an empty
    $HAL_DATA folder for good; an empty folder is no dataset either."""
    ctl, staging = _controller(tmp_path)
    ctl.start()
    try:
        link = '#!/bin/sh\necho x > "$HAL_DATA/scr"\nln -s "$HAL_DATA/scr" "$HAL_DATA/sl"\n'
        (linked,) = ctl.submit(build_request(link, {"output-data": "sl"}, {}, str(tmp_path), 0), "al").job_ids
        folder = '#!/bin/sh\nmkdir "$HAL_DATA/dir"\n'
        (dirred,) = ctl.submit(build_request(folder, {"output-data": "dir"}, {}, str(tmp_path), 0), "al").job_ids
        _until(_over(ctl, linked, dirred))
    finally:
        ctl.stop()
        staging.shutdown()
    assert "sl is a symbolic link" in (ctl.store.get(linked) or {})["cause"]
    assert "dir is an empty folder" in (ctl.store.get(dirred) or {})["cause"]  # a folder of files is staged out
    assert (ctl.store.get(linked) or {})["state"] == "FAILED" and not list((tmp_path / "cache").rglob(".jobs/*"))


def test_a_failed_stage_out_fails_the_writer_and_its_readers_learn_why(tmp_path: Path) -> None:
    """The writer stayed 'completed' with nothing in its record, and its reader failed on 'unknown dataset'. Now
    it ends FAILED with the reason; a reader waiting on it (afterok) never starts, as after any failed writer,
    and neither does one submitted while the copy was under way (an implicit afterok on the writer too: it held a
    node in CF through the copy, then failed)."""
    ctl, staging = _controller(tmp_path)
    assert staging.outputs is not None
    ctl.start()
    try:
        write = '#!/bin/sh\necho f > "$HAL_DATA/fy"\n'
        (writer,) = ctl.submit(build_request(write, {"output-data": "fy"}, {}, str(tmp_path), 0), "al").job_ids
        (tmp_path / "out").mkdir()  # a file where the output's folder goes: each attempt fails (1.5 s of retries)
        (tmp_path / "out" / str(writer)).write_text("in the way")
        read = lambda: build_request("#!/bin/sh\ntrue\n", {"input-data": "fy"}, {}, str(tmp_path), 0)  # noqa: E731
        (waiting,) = ctl.submit(read(), "al").job_ids  # an implicit afterok on the queued writer
        _until(lambda: (ctl.store.get(writer) or {}).get("state") == "STAGE_OUT")
        (late,) = ctl.submit(read(), "al").job_ids  # the writer has ended, its output on its way: waits on it too
        _until(lambda: (ctl.store.get(writer) or {}).get("state") == "FAILED")
        _until(lambda: ctl.reason(late) == ctl.reason(waiting) == "DependencyNeverSatisfied", timeout=5)
        assert ctl.reason(late) == ctl.reason(waiting) == "DependencyNeverSatisfied"
        assert late not in staging.staging and ctl.live[late].state == "PENDING"
    finally:
        ctl.stop()
        staging.shutdown()
    wrote = ctl.store.get(writer) or {}
    assert wrote["state"] == "FAILED" and wrote["cause"].startswith("stage-out of fy: failed"), wrote
    assert wrote["exit_code"] == 0 and wrote["end_time"] is not None  # its processes did succeed


def test_a_cache_that_cannot_hold_the_jobs_folder_drains_its_node_and_requeues_the_job(tmp_path: Path) -> None:
    """A file where the cache's .jobs folder goes (or a read-only cache) raised in the controller loop: the job
    showed RUNNING with no process, ignored hal cancel, and a restart ran it anyway (QA). Then it used up the
    job's attempts and failed it, node after node, while the node stayed in service (QA, issue 6): now the node
    is drained with the reason and the job waits, its attempts untouched, for a node that can run it. A job whose
    stage-in has drained two nodes is requeued held, as Slurm's "launch failed requeued held" (one job must not
    drain a whole cluster): which job drains which node depends on how their attempts interleave, so each job is
    either held (it drained both) or waits for a node, requeued for another one; an administrator releases the
    held after the resume."""
    ctl, staging = _controller(tmp_path)
    staging.requeue_wait = 0.5
    for node in ctl.table.names:
        root = staging.stager.caches[node].root
        root.mkdir(parents=True, exist_ok=True)
        (root / ".jobs").write_text("in the way")
    src = tmp_path / "in.dat"
    src.write_bytes(b"d" * 1000)  # an input to copy too: that path failed the job instead (QA round 2)
    staging.stager.catalog.register_file("ind", str(src))
    ctl.start()
    try:
        (job,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", {}, {}, str(tmp_path), 0), "al").job_ids
        opts = {"input-data": "ind"}
        (copied,) = ctl.submit(build_request("#!/bin/sh\ntrue\n", opts, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: len(ctl.drained) == 2)
        held = "launch failed requeued held: its stage-in has drained 2 nodes"
        elsewhere = "(node drained; requeued for another node)"

        def settled(j: int) -> bool:
            row = ctl.store.get(j) or {}
            cause = str(row.get("cause"))
            return row.get("state") == "PENDING" and (cause.startswith(held) or cause.endswith(elsewhere))

        _until(lambda: all(settled(j) for j in (job, copied)))
        assert sorted(ctl.drained) == sorted(ctl.table.names)
        for node, row in ctl.drained.items():
            assert row["reason"].startswith(f"data cache unusable: cannot make $HAL_DATA in node {node}'s cache:")
        rows = {j: ctl.store.get(j) or {} for j in (job, copied)}
        for j, row in rows.items():
            assert settled(j) and row["restarts"] == 0, row  # its attempts untouched
            assert "cannot make $HAL_DATA in node" in str(ctl.store.events_of(j))
        kept = [j for j, row in rows.items() if str(row["cause"]).startswith(held)]
        assert kept and all(ctl.reason(j) == "JobHeldAdmin" for j in kept), rows  # one drained both nodes at least
        for node in ctl.table.names:
            (staging.stager.caches[node].root / ".jobs").unlink()
        root = Identity("root", True)
        resume(ctl, ",".join(ctl.table.names), root)
        for j in kept:
            set_hold(ctl, str(j), root, held=False)  # hal release
        _until(_over(ctl, job, copied))
    finally:
        ctl.stop()
        staging.shutdown()
    assert [(ctl.store.get(j) or {}).get("state") for j in (job, copied)] == ["COMPLETED", "COMPLETED"]


def test_the_clock_starts_when_the_inputs_have_arrived(tmp_path: Path) -> None:
    """StartTime was taken at allocation, so the staging counted as run time but not against --time, and a job
    that completed showed Elapsed > Timelimit (QA). Slurm resets StartTime when CONFIGURING ends."""
    ctl, staging = _controller(tmp_path)
    gate = _slow_dataset(tmp_path, staging, "late")
    ctl.start()
    try:
        opts = {"input-data": "late", "time": "0:05"}  # 4 s to spare for a 1 s job on a loaded machine
        (job,) = ctl.submit(build_request("#!/bin/sh\nsleep 1\n", opts, {}, str(tmp_path), 0), "al").job_ids
        _until(lambda: job in staging.staging)
        allocated = (ctl.store.get(job) or {})["start_time"]
        time.sleep(6)  # longer than the job's limit
        opened = time.time()
        gate.set()
        _until(_over(ctl, job))
    finally:
        gate.set()
        ctl.stop()
        staging.shutdown()
    row = ctl.store.get(job) or {}
    assert row["state"] == "COMPLETED" and row["start_time"] >= opened > allocated + 5.9
    assert row["end_time"] - row["start_time"] < 5  # Elapsed within its limit
    assert any(str(e["cause"]).startswith("inputs staged in ") for e in ctl.store.events_of(job))

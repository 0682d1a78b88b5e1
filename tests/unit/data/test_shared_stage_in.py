"""A stage-in copy two jobs share on one node, on real files and threads, from a throttled source.

QA: cancelling the job whose thread ran the shared copy threw it away; the job still waiting restarted it from
byte 0 (the source read 12.7 MB, then a fresh full 31.5 MB). It goes on while any job wants it."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from hal.data.cache import NodeCache
from hal.data.catalog import Catalog, Dataset
from hal.data.stager import RetryPolicy, StageCancelled, Staged, Stager

SIZE, CHUNK = 60_000, 1000  # 60 reads of 20 ms: a copy of about 1.2 s


class _Slow:
    """A source file that sends each chunk late and counts what it sent (a throttled FTP server)."""

    def __init__(self, inner: Any, path: str) -> None:
        self.inner, self.path = inner, path

    def read(self, n: int = -1) -> bytes:
        time.sleep(ThrottledFS.delay)
        data: bytes = self.inner.read(n)
        ThrottledFS.sent[self.path] += len(data)
        return data

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _Slow:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ThrottledFS(LocalFileSystem):  # type: ignore[misc]
    protocol = "halthrottled"
    delay: ClassVar[float] = 0.02
    sent: ClassVar[Counter[str]] = Counter()  # bytes each source file sent, every read of it together

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(str(path).removeprefix("halthrottled://")))

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        return _Slow(super()._open(path, mode, *args, **kwargs), Path(path).name)


fsspec.register_implementation("halthrottled", ThrottledFS, clobber=True)


@pytest.fixture
def slow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Stager, set[int], Path]:
    """A stager with one node, the throttled dataset ``slow30`` and the set of cancelled jobs it asks."""
    monkeypatch.setattr("hal.data.stager.CHUNK", CHUNK)
    src = tmp_path / "store" / f"slow30-{tmp_path.name}"
    src.parent.mkdir()
    src.write_bytes(bytes(range(256)) * (SIZE // 256) + b"z" * (SIZE % 256))
    catalog = Catalog(tmp_path / "catalog.json")
    digest = "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    catalog.register(Dataset("slow30", SIZE, digest, f"halthrottled://{src}"))
    cache = NodeCache("vn002", tmp_path / "cache" / "vn002", capacity=1 << 20)
    stager = Stager(catalog, {"vn002": cache}, RetryPolicy(attempts=1))
    cancelled: set[int] = set()
    stager.stopping = lambda job_id: job_id in cancelled
    ThrottledFS.sent[src.name] = 0
    return stager, cancelled, src


def _start(stager: Stager, job_id: int, out: dict[int, Staged | BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            out[job_id] = stager.stage_one(job_id, "slow30", "vn002")
        except BaseException as exc:
            out[job_id] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _joined(stager: Stager, job_id: int) -> None:
    """Wait until ``job_id`` wants the copy of slow30 into vn002 (is in its flight): a fixed sleep assumed its
    thread had got there, and under load it had not, so a cancel stopped the copy nobody else wanted yet."""
    flights = stager._flights._flights

    def waiting() -> bool:
        flight = flights.get(("vn002", "slow30"))
        return flight is not None and job_id in flight.jobs

    _until(waiting)


def _partials(stager: Stager) -> list[str]:
    return sorted(p.name for p in stager.caches["vn002"].root.glob(".*.partial"))


def test_the_copy_goes_on_for_the_other_job_when_the_first_is_cancelled(slow) -> None:
    stager, cancelled, src = slow
    out: dict[int, Staged | BaseException] = {}
    first = _start(stager, 8, out)
    _until(lambda: ThrottledFS.sent[src.name] >= 5 * CHUNK)
    second = _start(stager, 9, out)  # waits for the same copy
    _joined(stager, 9)  # job 9 is waiting for the copy job 8's thread runs
    assert ThrottledFS.sent[src.name] < SIZE, "the copy ended before the cancel: nothing tested"
    partial = _partials(stager)
    assert len(partial) == 1
    cancelled.add(8)  # hal cancel 8, mid-copy
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()
    assert isinstance(out[8], StageCancelled), out[8]  # the cancelled job gets no input
    got = out[9]
    assert isinstance(got, Staged), got
    cached = stager.caches["vn002"].path_of("slow30")
    assert cached.read_bytes() == src.read_bytes()
    assert ThrottledFS.sent[src.name] == SIZE  # read once: the copy went on, never restarted from byte 0
    assert _partials(stager) == [] and stager.caches["vn002"].pins["slow30"] >= {9}


def test_the_copy_stops_and_its_partial_file_goes_when_every_job_is_cancelled(slow) -> None:
    stager, cancelled, src = slow
    out: dict[int, Staged | BaseException] = {}
    first = _start(stager, 8, out)
    _until(lambda: ThrottledFS.sent[src.name] >= 5 * CHUNK)
    second = _start(stager, 9, out)
    _joined(stager, 9)  # job 9 is waiting for the copy job 8's thread runs
    cancelled.add(8)
    time.sleep(0.2)
    assert first.is_alive()  # still copying, for job 9
    t0 = time.monotonic()
    cancelled.add(9)
    first.join(5)
    second.join(5)
    assert time.monotonic() - t0 < 2 and not first.is_alive() and not second.is_alive()  # promptly
    assert isinstance(out[8], StageCancelled) and isinstance(out[9], StageCancelled), out
    assert ThrottledFS.sent[src.name] < SIZE  # not read to the end
    _until(lambda: _partials(stager) == [])  # the abandoned reader removes its partial file as it stops
    cache = stager.caches["vn002"]
    assert not cache.has("slow30") and cache.used() == 0 and not cache.reserved


def test_a_lone_cancelled_copy_stops_as_before(slow) -> None:
    stager, cancelled, src = slow
    out: dict[int, Staged | BaseException] = {}
    first = _start(stager, 8, out)
    _until(lambda: ThrottledFS.sent[src.name] >= 5 * CHUNK)
    t0 = time.monotonic()
    cancelled.add(8)
    first.join(5)
    assert time.monotonic() - t0 < 1 and isinstance(out[8], StageCancelled), out
    _until(lambda: _partials(stager) == [])
    assert not stager.caches["vn002"].has("slow30")


def test_a_flight_is_forgotten_once_no_job_wants_it() -> None:
    from hal.data.flights import Flights

    flights, stopping = Flights(), {2}
    with flights.joined("n0", "a", 1) as flight, flights.joined("n0", "a", 2) as same:
        assert flight is same and flights.wanted(flight, stopping.__contains__)
        stopping.add(1)
        assert not flights.wanted(flight, stopping.__contains__)
    assert not flights._flights  # no lock left behind for every dataset ever staged

"""``OutputStaging.writers`` runs under the controller's lock at each submission reading datasets: it looks only at
names being staged out now (review: it scanned every job ever staged out, ``states`` shrinking only on requeue)."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

from hal.data.outputs import OutputStaging


class Unscannable(dict):  # type: ignore[type-arg]
    """Every job ever staged out: a scan of them all is the bug."""

    def items(self) -> Any:
        raise AssertionError("writers scanned every job ever staged out")

    values = keys = __iter__ = items


class NoPool:
    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()  # the copy never runs: the output stays "staging"


def _outputs() -> OutputStaging:
    stager = SimpleNamespace(caches={"vn0": object()})
    outputs = OutputStaging(stager, "/out/{name}")  # type: ignore[arg-type]
    outputs._pool = NoPool()  # type: ignore[assignment]
    return outputs


def test_writers_does_not_scan_every_job_staged_out() -> None:
    outputs = _outputs()
    outputs.states = Unscannable({job: {"old": "done"} for job in range(10_000)})
    assert outputs.writers(()) == {}
    assert outputs.writers(["old", "other"]) == {}


def test_writers_names_the_jobs_staging_a_name_out_now() -> None:
    outputs = _outputs()
    outputs.after_end(None, 7, ("n", "m"), "vn0", "COMPLETED", "al")
    outputs.after_end(None, 8, ("n",), "vn0", "COMPLETED", "bo")
    assert outputs.writers(["n", "m", "x"]) == {"n": [(7, "al"), (8, "bo")], "m": [(7, "al")]}
    outputs.cancelled[8] = "bo"  # its stage-out cancelled: no reader waits on it
    outputs.forget(7)  # requeued: its outputs are the next attempt's
    assert outputs.writers(["n", "m"]) == {}
    assert 7 not in outputs.sending.get("n", set()) and "m" not in outputs.sending

"""Which jobs a predictor has learned, in a few bytes: their count and the sum of a hash of each (job id, submit time,
run time, user). A saved model carries it so a run continued from the file can tell whether this trace's earlier
jobs are the very ones it learned: every archive trace's clock starts near 0, so times alone said yes for another
trace's jobs and threw them away (QA). The sum does not depend on the order the runs ended in, so a model continued
and saved again still matches the jobs it learned over both runs."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from hal.model.job import JobSpec

MASK = (1 << 64) - 1


def job_hash(job_id: int, submit: float, runtime: float, user: str) -> int:
    """One learned run's 64-bit hash (blake2b: stable across processes, unlike hash())."""
    key = f"{job_id}|{float(submit)!r}|{float(runtime)!r}|{user}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


@dataclass(slots=True)
class Fingerprint:
    """How many runs were learned and the sum of their hashes (mod 2**64), and the earliest submission among them
    (``since``: inf before any; None for a file saved before it was kept), so a model on the epoch clock, a live
    server's, can tell this site's exported jobs from an archive trace's 1990s ones (hal.learn.clocks). Two
    fingerprints are equal by their runs: ``since`` follows from them."""

    jobs: int = 0
    digest: int = 0
    since: float | None = field(default=math.inf, compare=False)

    def add(self, job: JobSpec, runtime: float) -> None:
        self.jobs += 1
        self.digest = (self.digest + job_hash(job.job_id, job.submit_time, runtime, job.user)) & MASK
        if self.since is not None:
            self.since = min(self.since, job.submit_time)

    @staticmethod
    def of(jobs: Iterable[JobSpec]) -> Fingerprint:
        """The fingerprint a predictor has after learning ``jobs`` (each with its own run time)."""
        out = Fingerprint()
        for job in jobs:
            out.add(job, job.runtime or 0.0)
        return out

    def to_json(self) -> dict[str, object]:
        known = self.since is not None and math.isfinite(self.since)
        return {"jobs": self.jobs, "digest": f"{self.digest:016x}", **({"since": self.since} if known else {})}

    @staticmethod
    def from_json(data: object) -> Fingerprint:
        """A saved one; ValueError when it is not a count and a 64-bit hex digest (a damaged meta.json), or its
        ``since`` is not a time. Without ``since`` (an older file), the runs it learned are from an unknown time."""
        if not isinstance(data, dict) or not isinstance(data.get("jobs"), int) or data["jobs"] < 0:
            raise ValueError(f"learned_jobs {data!r} is not a count and a digest")
        digest = data.get("digest")
        if not isinstance(digest, str) or len(digest) != 16:
            raise ValueError(f"learned_jobs digest {digest!r} is not 16 hex digits")
        since = data.get("since")
        number = isinstance(since, int | float) and not isinstance(since, bool)
        if since is not None and not (number and 0 <= since < math.inf):
            raise ValueError(f"learned_jobs since {since!r} is not a time")
        if since is None and not data["jobs"]:
            since = math.inf  # none learned yet
        return Fingerprint(int(data["jobs"]), int(digest, 16), None if since is None else float(since))

"""What journaling a recoverable session costs: the same no-op tasks through a plain and a recoverable session of
one standalone session manager (2 slots), alternating, with the number of journal writes (transactions).

    python benchmarks/htc_journal.py --tasks 100000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from hal.htc.local import LocalManager


def one(client: object, recoverable: bool, n: int) -> tuple[float, int]:
    before = client.stats()["journal_writes"]  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    with client.session("noop", slots=2, recoverable=recoverable) as s:  # type: ignore[attr-defined]
        count = sum(1 for _ in s.map(range(n)))
    rate = count / (time.perf_counter() - t0)
    return rate, client.stats()["journal_writes"] - before  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    plain: list[float] = []
    kept: list[float] = []
    writes: list[int] = []
    with LocalManager(cpus=2) as client:
        client.register_app("noop", "hal.htc.examples:noop", max_instances=2)
        one(client, False, 1000)  # warm instances
        for _ in range(args.runs):
            plain.append(one(client, False, args.tasks)[0])
            rate, w = one(client, True, args.tasks)
            kept.append(rate)
            writes.append(w)
    print(
        f"plain session:       {statistics.median(plain):,.0f} tasks/s (runs: {', '.join(f'{r:,.0f}' for r in plain)})"
    )
    print(f"recoverable session: {statistics.median(kept):,.0f} tasks/s (runs: {', '.join(f'{r:,.0f}' for r in kept)})")
    print(f"journal writes per recoverable run of {args.tasks:,} tasks: {writes}")


if __name__ == "__main__":
    main()

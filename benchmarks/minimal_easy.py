"""Minimal single-purpose EASY simulator (a processor counter, no plugins): the speed ceiling for HAL."""

from __future__ import annotations

import heapq
import sys
import time


def load(path: str) -> tuple[int, list[tuple[int, int, int, int, int]]]:
    procs = 0
    jobs = []
    with open(path) as fh:
        for line in fh:
            if line.startswith(";"):
                if "MaxProcs:" in line:
                    procs = int(line.split(":")[1])
                continue
            f = line.split()
            if len(f) < 18:
                continue
            jobs.append((int(f[0]), int(f[1]), int(f[3]), int(f[4]), int(f[8])))
    jobs.sort(key=lambda j: j[0])
    return procs, jobs


def simulate(capacity: int, jobs: list[tuple[int, int, int, int, int]], sjbf: bool, actual: bool) -> dict[int, int]:
    events: list[tuple[int, int, int, int]] = []  # (time, kind 0=submit 1=end, seq, idx)
    for i, (_jid, sub, _run, _p, _req) in enumerate(jobs):
        events.append((sub, 0, i, i))
    heapq.heapify(events)
    seq = len(jobs)
    free = capacity
    queue: list[int] = []
    running: dict[int, int] = {}  # idx -> est end
    start: dict[int, int] = {}
    while events:
        now, kind, _s, i = heapq.heappop(events)
        if kind == 0:
            queue.append(i)
        else:
            free += jobs[i][3]
            del running[i]
        early = sum(jobs[r][3] for r, e in running.items() if e <= now)
        free += early
        while queue and jobs[queue[0]][3] <= free:
            j = queue.pop(0)
            free -= jobs[j][3]
            est = jobs[j][2] if actual else jobs[j][4]
            running[j] = now + est
            start[j] = now
            heapq.heappush(events, (now + jobs[j][2], 1, seq, j))
            seq += 1
        if len(queue) < 2 or free == 0:
            free -= early
            continue
        head = queue[0]
        need = jobs[head][3]
        avail = free
        shadow = now
        ends = sorted(((r, e) for r, e in running.items() if e > now), key=lambda kv: kv[1])
        k = 0
        while k < len(ends):
            shadow = ends[k][1]
            while k < len(ends) and ends[k][1] == shadow:
                avail += jobs[ends[k][0]][3]
                k += 1
            if avail >= need:
                break
        extra = avail - need
        cands = queue[1:]
        if sjbf:
            cands.sort(key=lambda j: jobs[j][2] if actual else jobs[j][4])
        for j in cands:
            p = jobs[j][3]
            if p > free:
                continue
            est = jobs[j][2] if actual else jobs[j][4]
            if now + est <= shadow:
                pass
            elif p <= extra:
                extra -= p
            else:
                continue
            free -= p
            queue.remove(j)
            running[j] = now + est
            start[j] = now
            heapq.heappush(events, (now + jobs[j][2], 1, seq, j))
            seq += 1
            if free == 0:
                break
        free -= early
    return start


if __name__ == "__main__":
    cap, js = load(sys.argv[1])
    sjbf = "SJBF" in sys.argv[1]
    t0 = time.perf_counter()
    st = simulate(cap, js, sjbf, sjbf)
    dt = time.perf_counter() - t0
    ref = {}
    with open(sys.argv[1]) as fh:
        for line in fh:
            if not line.startswith(";"):
                f = line.split()
                ref[int(f[0])] = int(f[1]) + int(f[2])
    mism = sum(1 for i, j in enumerate(js) if st[i] != ref[j[0]])
    print(f"jobs={len(js)} mismatches={mism} seconds={dt:.2f} jobs/s={len(js) / dt:.0f}")

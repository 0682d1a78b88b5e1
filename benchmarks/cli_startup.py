"""What one `hal` command costs a Slurm habit (squeue in a watch loop, sbatch in a shell loop): wall time of
whole CLI processes against a real server, next to the interpreter's own start (the floor, same run).

Each command runs ``--repeat`` times in turn (interleaved, so load drifts hit all alike); medians are shown.
Usage: python benchmarks/cli_startup.py [--repeat 15] [--python .venv/bin/python]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.livekit import LiveServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--python", default=sys.executable, help="the interpreter whose hal to time (another venv)")
    args = ap.parse_args()
    args.python = str(Path(args.python).absolute())  # the commands run in the server's work folder
    live = LiveServer(Path(tempfile.mkdtemp(prefix="hal-cli-")))
    live.start()
    try:
        job = live.cli("submit", "--parsable", "-H", "--wrap", "true", check=True).stdout.strip()
        commands = {
            "python -c pass (floor)": [args.python, "-c", "pass"],
            "hal queue": [args.python, "-m", "hal", "queue"],
            "hal submit --wrap true -H": [args.python, "-m", "hal", "submit", "-H", "--wrap", "true"],
            f"hal show {job}": [args.python, "-m", "hal", "show", job],
            "hal history": [args.python, "-m", "hal", "history"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                t0 = time.perf_counter()
                done = subprocess.run(argv, env=live.env, cwd=live.work, capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr}")
                times[name].append(time.perf_counter() - t0)
    finally:
        live.stop()
    floor = statistics.median(times["python -c pass (floor)"])
    print(f"| command | median s | over the floor s |  ({args.repeat} runs, {args.python})")
    print("|---|---:|---:|")
    for name, got in times.items():
        med = statistics.median(got)
        print(f"| {name} | {med:.3f} | {med - floor:.3f} |")


if __name__ == "__main__":
    main()

"""The numbers RLScheduler (Zhang et al., SC20) published, which HAL's rlscheduler setup is checked against."""

from __future__ import annotations

TRACE_FILES: dict[str, str] = {
    "Lublin-1": "lublin_256.swf",
    "SDSC-SP2": "SDSC-SP2-1998-4.2-cln.swf",
    "HPC2N": "HPC2N-2002-2.2-cln.swf",
    "Lublin-2": "lublin_256_new2.swf",
}

# Average bounded slowdown: trace -> heuristic -> (without, with backfilling).
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "Lublin-1": {
        "fcfs": (7273.77, 235.82),
        "wfp3": (19753.53, 133.87),
        "unicep": (22274.74, 307.23),
        "sjf": (277.35, 73.31),
        "f1": (258.37, 75.07),
    },
    "SDSC-SP2": {
        "fcfs": (1727.54, 1595.12),
        "wfp3": (3000.88, 1083.12),
        "unicep": (1848.45, 548.01),
        "sjf": (2680.55, 2167.84),
        "f1": (1232.06, 1098.22),
    },
    "HPC2N": {
        "fcfs": (297.18, 127.38),
        "wfp3": (426.99, 97.39),
        "unicep": (609.77, 175.12),
        "sjf": (157.71, 122.04),
        "f1": (118.01, 71.95),
    },
    "Lublin-2": {
        "fcfs": (7842.47, 247.61),
        "wfp3": (9523.18, 318.35),
        "unicep": (11265.31, 379.59),
        "sjf": (787.89, 91.99),
        "f1": (698.34, 148.25),
    },
}

# The best learned (RL) policy's column: trace -> (without, with backfilling); None where not published.
PUBLISHED_RL: dict[str, tuple[float | None, float | None]] = {
    "Lublin-1": (None, 58.64),
    "SDSC-SP2": (466.44, 397.82),
    "HPC2N": (117.01, 86.14),
    "Lublin-2": (None, 118.79),
}

# The same setup with the intended waiting time w = t - s (shared/rlscheduler.md, section 7).
INTENDED: dict[str, dict[str, tuple[float, float]]] = {
    "Lublin-1": {"wfp3": (337.34, 126.50), "unicep": (381.71, 103.10)},
    "SDSC-SP2": {"wfp3": (1205.96, 675.49), "unicep": (1699.00, 1517.21)},
}

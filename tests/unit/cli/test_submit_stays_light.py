"""`hal submit` reads a script's own options (its job name, its --switches) before sending it; that must not load
the engine (numpy, the cluster model): reading the name through the controller's parser cost every submission
without -J about 0.2 s of start-up."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from hal.cli import submit
options = submit._script_options("#!/bin/sh\\n#SBATCH -J named --requeue\\n#SBATCH --no-requeue\\ntrue\\n")
assert options == {"job-name": "named", "no-requeue": "1"}, options
heavy = sorted(m for m in ("numpy", "hal.model.cluster", "hal.controller.directives") if m in sys.modules)
print(",".join(heavy))
"""


def test_reading_a_scripts_options_loads_no_engine() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"hal submit loaded {done.stdout.strip()}"

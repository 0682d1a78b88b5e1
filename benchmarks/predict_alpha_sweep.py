"""How the quantile of gbm-regress changes EASY-SJBF's average bounded slowdown (issue 3).

This sweep chose gbm-regress's alpha (0.4) on SDSC-SP2, KTH-SP2 and CTC-SP2 only; HPC2N and SDSC-BLUE were
not looked at for the choice. Usage: python benchmarks/predict_alpha_sweep.py
Each cell: `hal simulate TRACE --backfill-order sjf` with GbmPredictor(GbmConfig(mode="regress", alpha=A)).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hal.engine.predict.gbm import GbmPredictor
from hal.engine.predict.trees import GbmConfig
from hal.engine.profile import Profile
from hal.sim.runner import SimOptions, load, run_workload

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learning_results import HPC_TRACES, TRACES, write_section

ALPHAS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
CHOSEN_ON = ("SDSC-SP2", "KTH-SP2", "CTC-SP2")


def main() -> None:
    lines = [
        "## Sensitivity: gbm-regress quantile (alpha) vs avg bsld, EASY-SJBF",
        "",
        "Command: `python benchmarks/predict_alpha_sweep.py`. Used to choose alpha = 0.4 for gbm-regress, on these "
        "three traces only (HPC2N and SDSC-BLUE are held out). Lower alpha = shorter predictions.",
        "",
        "| trace | " + " | ".join(f"alpha {a}" for a in ALPHAS) + " |",
        "|---|" + "---|" * len(ALPHAS),
    ]
    for label in CHOSEN_ON:
        swf, wl = load(TRACES / HPC_TRACES[label], SimOptions())
        cells = []
        for alpha in ALPHAS:
            cfg = GbmConfig(mode="regress", alpha=alpha)
            res = run_workload(
                swf, wl, SimOptions(Profile(backfill_order="sjf"), predictor=lambda c=cfg: GbmPredictor(c))
            )
            cells.append(f"{res.summary.avg_bsld:.2f}")
            print(label, alpha, cells[-1], flush=True)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        write_section("predict_alpha_sweep", "\n".join(lines))


if __name__ == "__main__":
    main()

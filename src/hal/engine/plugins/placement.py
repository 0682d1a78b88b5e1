"""Node placement orders for multi-node jobs: first fit (lowest index) or best fit (fullest node that fits)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hal.engine.nodes import Matrix, Ranker, index_order
from hal.engine.request import Request


def best_fit(req: Request, free: Matrix, ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """Fewest free cpus first, so large holes stay whole for large jobs; ties by node index."""
    idx = np.flatnonzero(ok)
    order = np.argsort(free[idx, 0], kind="stable")
    return idx[order]


RANKERS: dict[str, Ranker] = {"firstfit": index_order, "bestfit": best_fit, "topology": index_order}
# "topology" ranks in index order only where no TopologySelector is installed (it orders nodes itself)

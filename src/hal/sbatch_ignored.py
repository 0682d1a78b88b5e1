"""sbatch options HAL accepts without acting on them (hints, binding, accounting): `#SBATCH` lines and the
command line both take them and the submitter is told in a note. One table for the controller's directive
parser and for `hal submit`, which does not import the controller."""

from __future__ import annotations

IGNORED_VALUED = frozenset({
    "hint", "cpu-bind", "distribution", "threads-per-core", "ntasks-per-core", "cores-per-socket", "sockets-per-node",
    "gres-flags", "tmp", "acctg-freq", "wckey", "propagate", "gpu-bind", "mem-bind", "profile",
    "network", "export-file", "reservation", "licenses", "priority", "clusters", "container", "gpu-freq",
    "gpus-per-socket",  # HAL has no sockets: a node's GPUs are asked per node, task or job
})  # fmt: skip
# --parsable is not here: the command line acts on it (the script path ignores it, see directives)
IGNORED_FLAGS = frozenset({"oversubscribe", "no-kill", "get-user-env", "verbose", "quiet", "overcommit", "contiguous"})
IGNORED_SHORT = {
    "s": "oversubscribe", "k": "no-kill", "v": "verbose", "Q": "quiet", "O": "overcommit", "M": "clusters",
    "m": "distribution",
}  # fmt: skip
# -M and -m take a value (-M c1, -mblock), the others are flags
# sbatch's input environment variables for them (SBATCH_GPU_FREQ=high is --gpu-freq=high): noted alike
IGNORED_ENV = {
    "ACCTG_FREQ": "acctg-freq", "CLUSTERS": "clusters", "CONTAINER": "container", "DISTRIBUTION": "distribution",
    "GPU_BIND": "gpu-bind", "GPU_FREQ": "gpu-freq", "GRES_FLAGS": "gres-flags", "HINT": "hint",
    "MEM_BIND": "mem-bind", "NETWORK": "network", "PROFILE": "profile", "RESERVATION": "reservation",
    "WCKEY": "wckey",
}  # fmt: skip

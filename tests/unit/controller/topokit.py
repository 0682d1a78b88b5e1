"""An in-process controller (dev executor, no server process) on a 16-node cluster described by a Slurm
topology.conf, for tests of what the controller says about topology jobs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hal.api.server import ServerOptions, build
from hal.controller.auth import Identity
from hal.controller.directives import build_request

ADMIN = Identity("root", admin=True)
BLOCKS = "".join(f"BlockName=b{i + 1} Nodes=node[{4 * i + 1:02d}-{4 * i + 4:02d}]\n" for i in range(4))
BLOCKS += "BlockSizes=4,8,16\n"
# four leaf switches whose nodes alternate (node01, node03, ... on s0), under one top switch
ALTERNATING = """SwitchName=s0 Nodes=node[01,03,05,07]
SwitchName=s1 Nodes=node[02,04,06,08]
SwitchName=s2 Nodes=node[09,11,13,15]
SwitchName=s3 Nodes=node[10,12,14,16]
SwitchName=top Switches=s[0-3]
"""


@contextmanager
def controller(tmp: Path, conf: str, names: str = "node[01-16]", executor: str = "dev") -> Iterator[Any]:
    """The controller of a server on ``names`` (2 CPUs each) with ``conf`` as its topology.conf; leaving it with
    the ``local`` executor is a controller that dies: its jobs run on."""
    (tmp / "topology.conf").write_text(conf)
    cluster = tmp / "c.toml"
    cluster.write_text(
        f'name = "t"\n[[nodes]]\nnames = "{names}"\ncpus = 2\nmem = "1G"\n[topology]\nslurm_conf = "topology.conf"\n'
    )
    ctl, _app, store, executor = build(ServerOptions(home=tmp / "home", executor=executor, cluster=cluster))
    try:
        yield ctl
    finally:
        executor.shutdown()
        store.close()


def submit(ctl: Any, tmp: Path, **options: str) -> int:
    """One job from sbatch-style options (``nodes="8"``, ``topology="required=switch"``); its id."""
    req = build_request("#!/bin/sh\ntrue\n", {k.replace("_", "-"): v for k, v in options.items()}, {}, str(tmp), 0)
    return int(ctl.submit(req, "root").job_ids[0])

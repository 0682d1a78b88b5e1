"""`hal update JOB TimeLimit=...` on a job submitted to several partitions (-p debug,batch): a limit over one
partition's skips that partition while the limit stands, as Slurm does; it dropped the partition for good, so a
lower limit later could not bring it back (QA)."""

from __future__ import annotations

from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.controller.directives import build_request
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN

CLUSTER = """name = "p"
[[nodes]]
prefix = "n"
count = 2
cpus = 1
partitions = ["debug", "batch"]
[[partitions]]
name = "debug"
max_time = 600
[[partitions]]
name = "batch"
default = true
"""


def test_a_partition_a_raised_limit_skipped_comes_back_when_the_limit_is_lowered(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl, _app, store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=tmp_path / "c.toml")
    )
    try:
        req = build_request("#!/bin/sh\ntrue\n", {"partition": "debug,batch", "time": "5", "hold": "1"}, {}, "/", 0)
        job = int(ctl.submit(req, "root").job_ids[0])

        def partition() -> str:
            return str((store.get(job) or {})["partition"])

        assert partition() == "debug,batch"
        update(ctl, str(job), ADMIN, {"TimeLimit": "30"})
        assert partition() == "batch" and ctl.live[job].spec.time_limit == 1800.0  # over debug's 10 minutes
        update(ctl, str(job), ADMIN, {"TimeLimit": "5"})
        assert partition() == "debug,batch"  # debug admits it again
        update(ctl, str(job), ADMIN, {"Partition": "batch"})
        update(ctl, str(job), ADMIN, {"TimeLimit": "4"})
        assert partition() == "batch"  # a partition the user took away stays away
    finally:
        executor.shutdown()
        store.close()


def test_an_unlimited_time_never_takes_a_partition_s_limit(tmp_path: Path) -> None:
    """QA: --time=0, UNLIMITED and 00:00:00 (Slurm: no limit) were capped to a limited partition's maximum in
    silence, while --time=2-0 was refused; they are over it, as sbatch's PartitionTimeLimit says."""
    from hal.controller.admission import admit
    from hal.controller.contracts import SubmitError

    (tmp_path / "c.toml").write_text(CLUSTER)
    ctl, _app, store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=tmp_path / "c.toml")
    )
    try:
        cluster = ctl.machine.cluster
        for given in ("0", "UNLIMITED", "00:00:00", "infinite"):
            req = build_request("#!/bin/sh\ntrue\n", {"partition": "debug", "time": given}, {}, "/", 0)
            try:
                admit(req, cluster)
            except SubmitError as exc:
                assert "PartitionTimeLimit: --time=UNLIMITED is over 0:10:00 in partition 'debug'" in str(exc)
            else:
                raise AssertionError(f"--time={given} admitted with {req.time_limit}")
            req = build_request("#!/bin/sh\ntrue\n", {"partition": "debug,batch", "time": given}, {}, "/", 0)
            admit(req, cluster)
            assert (req.partition, req.time_limit) == ("batch", None)  # the partition without a limit
        req = build_request("#!/bin/sh\ntrue\n", {"partition": "debug"}, {}, "/", 0)
        admit(req, cluster)
        assert req.time_limit == 600.0  # no --time: the partition's limit is the default
    finally:
        executor.shutdown()
        store.close()

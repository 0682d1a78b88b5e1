"""SLURM_UMASK as sbatch sends it sets the job's umask; anything else keeps the server's."""

from __future__ import annotations

import os

from hal.client import with_umask
from hal.executors.joboutput import job_umask


def test_job_umask_reads_octal_and_ignores_the_malformed() -> None:
    assert job_umask({"SLURM_UMASK": "0027"}) == 0o027
    assert job_umask({"SLURM_UMASK": "77"}) == 0o077
    for bad in ("", "0o22", "9", "01777", "022 ", "-22"):
        assert job_umask({"SLURM_UMASK": bad}) is None, bad
    assert job_umask({}) is None


def test_submit_sends_its_umask_unless_the_user_set_one() -> None:
    old = os.umask(0o037)
    try:
        assert with_umask({})["SLURM_UMASK"] == "0037"
        assert with_umask({"SLURM_UMASK": "0002"})["SLURM_UMASK"] == "0002"
        assert os.umask(0o037) == 0o037  # read, not changed
    finally:
        os.umask(old)

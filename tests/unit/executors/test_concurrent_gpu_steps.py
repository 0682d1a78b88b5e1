"""Concurrent srun steps in one job get GPUs of their own, as Slurm's steps do not share GRES unless --overlap: four
`srun -n1 --gpus-per-task=1 ... &` all ran on GPU 0. Run through the real srun shim in a fake job's environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from hal.executors.api import NodeShare
from hal.executors.jobenv import shares_json
from hal.executors.shims import write_shims

SPOOL_VARIABLE = "HAL_STEP_SPOOL"  # the srun shim's (gpu_steps), imported late so this runs on older code

# a task writes its GPUs to out.<tag>, then holds them until the file `go` appears
TASK = 'echo "$CUDA_VISIBLE_DEVICES $SLURM_GPUS_PER_TASK" > out.$TAG; while [ ! -e go ]; do sleep 0.02; done'


def _job(tmp_path: Path, gpus: tuple[int, ...]) -> dict[str, str]:
    spool = tmp_path / "spool"
    (spool / "jobs" / "7").mkdir(parents=True)
    shims = write_shims(spool / "bin")
    share = NodeShare("h04", tuple(sorted(os.sched_getaffinity(0))), 0, gpus, 8, "h100", 8)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env.pop(SPOOL_VARIABLE, None)
    env.update(PATH=f"{shims}:{env.get('PATH', '/usr/bin:/bin')}", SLURM_JOB_ID="7", HAL_JOB_ID="7")
    env.update(HAL_JOB_SHARES=shares_json([share]), HAL_NTASKS="4", CUDA_VISIBLE_DEVICES=",".join(map(str, gpus)))
    return env


def _srun(tmp_path: Path, env: dict[str, str], tag: str, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["srun", "-n1", *options, "sh", "-c", TASK],
        cwd=tmp_path,
        env={**env, "TAG": tag},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def _finish(tmp_path: Path, procs: list[subprocess.Popen[str]]) -> list[str]:
    (tmp_path / "go").touch()
    errs = []
    for proc in procs:
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        errs.append(err)
    return errs


def test_concurrent_gpus_per_task_steps_get_distinct_gpus(tmp_path: Path) -> None:
    env = _job(tmp_path, (0, 1, 2, 3))
    procs = [_srun(tmp_path, env, str(i), "--gpus-per-task=1") for i in range(4)]
    try:
        assert all(_wait_for(tmp_path / f"out.{i}") for i in range(4))
        time.sleep(0.1)  # the shell's write is whole
    finally:
        _finish(tmp_path, procs)
    seen = sorted((tmp_path / f"out.{i}").read_text().split()[0] for i in range(4))
    assert seen == ["0", "1", "2", "3"]
    assert {(tmp_path / f"out.{i}").read_text().split()[1] for i in range(4)} == {"1"}  # SLURM_GPUS_PER_TASK


def test_a_step_waits_for_busy_gpus_and_an_overlapping_one_shares(tmp_path: Path) -> None:
    env = _job(tmp_path, (0, 1, 2, 3))
    first = _srun(tmp_path, env, "a", "--gres=gpu:2")
    second = _srun(tmp_path, env, "b", "--gres=gpu:2")
    procs = [first, second]
    try:
        assert _wait_for(tmp_path / "out.a") and _wait_for(tmp_path / "out.b")
        procs.append(waiting := _srun(tmp_path, env, "c", "--gres=gpu:1"))
        procs.append(_srun(tmp_path, env, "d", "--gres=gpu:1", "--overlap"))
        assert _wait_for(tmp_path / "out.d")
        time.sleep(1.0)
        assert not (tmp_path / "out.c").exists()  # every GPU is held: it waits
        assert waiting.poll() is None
    finally:
        errs = _finish(tmp_path, procs)
    pairs = sorted((tmp_path / f"out.{t}").read_text().split()[0] for t in "ab")
    assert pairs == ["0,1", "2,3"]
    assert (tmp_path / "out.d").read_text().split()[0] == "0"  # --overlap: the first, held or not
    assert (tmp_path / "out.c").read_text().split()[0] in ("0", "2")
    assert "srun: Step creation temporarily disabled, retrying" in errs[2]
    assert "srun: Step created for StepId=7." in errs[2]
    assert "temporarily disabled" not in errs[0] + errs[1] + errs[3]


def test_a_single_step_and_the_batch_script_are_as_before(tmp_path: Path) -> None:
    """The batch script holds no GPUs: a lone step gets the job's first ones, its tasks one slice each."""
    env = _job(tmp_path, (4, 5, 6, 7))
    done = subprocess.run(
        ["srun", "-n2", "--gpus-per-task=2", "sh", "-c", 'echo "$SLURM_PROCID $CUDA_VISIBLE_DEVICES"'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["0 4,5", "1 6,7"]
    assert (
        SPOOL_VARIABLE
        not in subprocess.run(
            ["srun", "-n1", "env"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
        ).stdout
    )  # the shim's own variable stays out of the tasks


def test_the_gpus_of_a_step_that_is_gone_come_back(tmp_path: Path) -> None:
    from hal.executors.gpu_steps import release, try_hold

    record = tmp_path / "gpu-steps.json"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    held = {"h04": [0, 1]}
    record.write_text(f'{{"steps": 3, "held": {{"{gone.pid}": {{"start": 1, "gpus": {held}}}}}}}'.replace("'", '"'))
    taken = try_hold(record, {"h04": ((0, 1), 2)})
    assert taken == (3, {"h04": [0, 1]})
    release(record)
    assert try_hold(record, {"h04": ((0, 1), 1)}) == (4, {"h04": [0]})

"""srun's and scontrol's forms inside a real server's job (QA): a step's own GPU request replaces the job's
per-task binding, and scripts' scontrol forms (-o, jobid=, --version) are answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.livekit import LiveServer, serve_cluster

CLUSTER = """name = "stepopts"
[[nodes]]
prefix = "s"
count = 2
cpus = 4
mem = "1G"
gpus = 4
"""

GPU_STEPS = """#!/bin/sh
#SBATCH -N 2 --ntasks-per-node=2 --gpus-per-task=1
show='echo $0=$SLURM_PROCID:$CUDA_VISIBLE_DEVICES'
srun -n 4 sh -c "$show" job
srun -n 2 --ntasks-per-node=1 --gres=gpu:2 sh -c "$show" gres
srun -n 2 --ntasks-per-node=1 --gpus-per-node=2 sh -c "$show" pernode
srun -n 2 --ntasks-per-node=1 --gpus-per-task=2 sh -c "$show" pertask
srun -n 2 --ntasks-per-node=1 --gres=gpu:3 true; echo too_many=$?
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_cluster(tmp_path_factory, "stepopts", CLUSTER)


def _run(server: LiveServer, name: str, script: str) -> list[str]:
    (server.work / f"{name}.sh").write_text(script)
    job = server.cli("submit", "--parsable", "-o", f"{name}.out", f"{name}.sh", check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "90").returncode == 0, (server.work / f"{name}.out").read_text()
    return (server.work / f"{name}.out").read_text().splitlines()


def test_a_steps_gpus_replace_the_jobs_per_task_binding(server: LiveServer) -> None:
    lines = _run(server, "gpus", GPU_STEPS)
    said = "\n".join(lines)
    assert sorted(x for x in lines if x.startswith("job=")) == ["job=0:0", "job=1:1", "job=2:0", "job=3:1"], said
    for form in ("gres", "pernode", "pertask"):  # the node's 2 GPUs of the job, for its one task
        assert sorted(x for x in lines if x.startswith(f"{form}=")) == [f"{form}=0:0,1", f"{form}=1:0,1"], said
    assert "too_many=2" in lines and "needs 3 GPU(s) on node s000, which holds 2" in said, said


SCONTROL = """#!/bin/sh
scontrol -o show job "$SLURM_JOB_ID"
scontrol show jobid="$SLURM_JOB_ID" | head -n 1
scontrol show jobid "$SLURM_JOB_ID" | head -n 1
scontrol --version
"""


def test_scripts_scontrol_forms_are_answered(server: LiveServer) -> None:
    lines = _run(server, "sc", SCONTROL)
    said = "\n".join(lines)
    assert len(lines) == 4 and lines[0].startswith("JobId=") and " JobState=RUNNING " in lines[0], said
    assert "  " not in lines[0] and f"/sc.out StdErr={server.work}/sc.out" in lines[0], said
    assert lines[1] == lines[2] == lines[0].partition(" UserId=")[0], said
    assert lines[3].startswith("HAL ") and "scontrol" in lines[3], said


def test_sbatch_environment_and_gpu_fix(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SBATCH_GPU_FREQ", "high")  # noted as --gpu-freq is
    done = server.cli("submit", "--parsable", "-H", "--wrap", "true", check=True)
    assert "--gpu-freq" in done.stderr, done.stderr
    server.cli("cancel", done.stdout.strip(), check=True)
    monkeypatch.setenv("SBATCH_MEM_PER_GPU", "100M")
    monkeypatch.setenv("SBATCH_MEM_PER_CPU", "100M")
    (server.work / "m.sh").write_text("#!/bin/sh\n#SBATCH --mem-per-gpu=200M --gpus=1\ntrue\n")
    refused = server.cli("submit", "m.sh")
    assert refused.returncode != 0 and "SBATCH_MEM_PER_CPU and SBATCH_MEM_PER_GPU" in refused.stderr, refused
    monkeypatch.delenv("SBATCH_MEM_PER_CPU")
    refused = server.cli("submit", "--gres=gpu:5", "--wrap", "true")  # two 4-GPU nodes: exactly 5, not 8
    said = " ".join(refused.stderr.split())
    assert "-n 5 --gpus-per-task=1" in said and "--gpus-per-node=3 -N 2" in said and "add -N" not in said, said
    assert "-N 5" not in said, said  # five nodes: the cluster has two

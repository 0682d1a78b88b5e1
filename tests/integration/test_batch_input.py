"""sbatch -i/--input: the batch script reads its stdin from the file (relative to its working directory, named
with the --output patterns); /dev/null without one. A file that cannot be opened fails the job at launch (1:0)
with the reason, and leaves its output file untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.executors.local import LocalExecutor
from hal.model.job import JobState
from tests.integration.livekit import LiveServer
from tests.integration.test_local_executor import make_spec, wait_end


@pytest.fixture
def ex(tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "spool", kill_wait=0.5, watch_interval=0.2, liveness_interval=0.1)
    yield executor
    executor.shutdown(cancel_running=True)


def test_the_script_reads_its_input_file(ex: LocalExecutor, tmp_path: Path) -> None:
    (tmp_path / "in-1-alice.txt").write_text("line one\nline two\n")
    ex.launch(make_spec(1, '#!/bin/sh\nread first\necho "got $first"\ncat\n', tmp_path, stdin="in-%j-%u.txt"))
    ex.launch(make_spec(2, "#!/bin/sh\ncat\necho end\n", tmp_path))  # none: /dev/null, never the server's stdin
    assert wait_end(ex, 1).state is JobState.COMPLETED
    assert (tmp_path / "slurm-1.out").read_text() == "got line one\nline two\n"
    assert wait_end(ex, 2).state is JobState.COMPLETED
    assert (tmp_path / "slurm-2.out").read_text() == "end\n"


def test_an_input_that_cannot_be_opened_fails_the_launch(ex: LocalExecutor, tmp_path: Path) -> None:
    (tmp_path / "slurm-3.out").write_text("an earlier run's\n")
    ex.launch(make_spec(3, "#!/bin/sh\necho ran\n", tmp_path, stdin="absent.txt"))
    ex.launch(make_spec(4, "#!/bin/sh\necho ran\n", tmp_path, stdin=str(tmp_path)))
    for job_id, path, why in (
        (3, tmp_path / "absent.txt", "No such file or directory"),
        (4, tmp_path, "Is a directory"),
    ):
        ended = wait_end(ex, job_id)
        assert ended.state is JobState.FAILED and ended.exit_code == 1 and ended.signal is None, ended
        assert f"cannot open the job's --input file {path}: {why}" in ended.reason, ended.reason
    assert (tmp_path / "slurm-3.out").read_text() == "an earlier run's\n"


def test_through_the_cli_and_a_live_server(server: LiveServer) -> None:
    (server.work / "words.txt").write_text("alpha\nbeta\n")
    script = server.work / "count.sh"
    script.write_text("#!/bin/sh\n#SBATCH --input=missing.txt\n#SBATCH -o count-%j.out\nwc -l\n")
    job = server.cli("submit", "--parsable", "-i", "words.txt", str(script), check=True).stdout.strip()
    assert server.cli("wait", job, "--timeout", "60").returncode == 0  # the command line's file, not the script's
    assert (server.work / f"count-{job}.out").read_text().strip() == "2"
    assert f"StdIn={server.work}/words.txt" in server.cli("show", job, check=True).stdout
    bad = server.cli("submit", "--parsable", str(script), check=True).stdout.strip()
    assert server.cli("wait", bad, "--timeout", "60").returncode != 0
    rec = json.loads(server.cli("show", bad, "--json", check=True).stdout)
    assert (rec["state"], rec["exit_code"]) == ("FAILED", 1), rec
    assert f"cannot open the job's --input file {server.work}/missing.txt" in rec["cause"], rec

"""scontrol forms scripts use: `show jobid=ID`/`show jobid ID` and -o's one line a job (an array: each task)."""

from __future__ import annotations

from hal.executors.scontrol import hal_argv, one_line


def test_jobid_forms_and_one_line_per_job() -> None:
    env = {"SLURM_JOB_ID": "7"}
    for words in (["show", "job", "12"], ["show", "jobid=12"], ["show", "JobId", "12"], ["show", "job", "JobId=12"]):
        assert hal_argv(words, env) == ["show", "12"], words
    assert hal_argv(["show", "jobid"], env) == ["show", "7"]
    text = "JobId=3_1 JobName=a\n   UserId=u\n\nJobId=3_2 JobName=a\n   UserId=u\n\n"
    assert one_line(text) == "JobId=3_1 JobName=a UserId=u\nJobId=3_2 JobName=a UserId=u\n"

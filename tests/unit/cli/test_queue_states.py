"""squeue's view of jobs between their processes' end and their outputs' arrival (Slurm's SO)."""

from __future__ import annotations

from rich.console import Console

from hal.cli.live import parse_states
from hal.cli.queue import queue_table


def test_stage_out_is_a_state_users_can_ask_for_and_shows_its_nodes() -> None:
    assert parse_states("so") == ("STAGE_OUT", {"STAGE_OUT"})
    assert parse_states("STAGE_OUT,R") == ("RUNNING,STAGE_OUT", {"RUNNING", "STAGE_OUT"})
    job = {"id": "7", "job_id": 7, "partition": "batch", "name": "writer", "user": "al", "state": "STAGE_OUT",
           "elapsed": 12.0, "nodelist": "vn001", "req_nodes": 1, "req_cpus": 1}  # fmt: skip
    console = Console(width=200, record=True)
    console.print(queue_table([job]))
    line = console.export_text().splitlines()[1].split()
    assert line[4] == "SO" and line[-1] == "vn001"  # its nodes, as squeue shows a CG or SO job's


def test_pending_array_tasks_are_one_line_per_reason() -> None:
    from hal.cli.queue import collapse_arrays

    jobs = [
        {"id": f"12_{t}", "job_id": 12 + t, "array_job_id": 12, "array_task_id": t,
         "state": "RUNNING" if t < 2 else "PENDING", "reason": "JobArrayTaskLimit" if t < 8 else "Priority"}
        for t in range(10)
    ] + [{"id": "30", "job_id": 30, "array_job_id": None, "state": "PENDING", "reason": "Priority"}]  # fmt: skip
    got = [(j["id"], j["state"], j["reason"]) for j in collapse_arrays(jobs)]
    assert got == [("12_0", "RUNNING", "JobArrayTaskLimit"), ("12_1", "RUNNING", "JobArrayTaskLimit"),
                   ("12_[2-7]", "PENDING", "JobArrayTaskLimit"), ("12_[8-9]", "PENDING", "Priority"),
                   ("30", "PENDING", "Priority")]  # fmt: skip
    assert jobs[2]["id"] == "12_2"  # the records themselves are left alone


def test_squeue_array_codes_and_state_all() -> None:
    from hal.cli import squeue_format
    from hal.cli.live import parse_states

    task = {"id": "12_[3-5]", "job_id": 15, "array_job_id": 12}
    assert (
        squeue_format.render("%F %K", task) == "12 [3-5]"
        and squeue_format.render("%K", {"id": "7", "job_id": 7}) == "N/A"
    )
    assert parse_states("all") == (None, None)


def test_squeue_long_format_and_sort() -> None:
    """squeue -O NAME[:[.]SIZE] (20 wide by default) and -S keys with '-' for descending, missing values last."""
    import pytest

    from hal.cli import squeue_format

    fmt = squeue_format.from_long("JobID:6,name,State:.9")
    assert fmt == "%6i%20j%.9T"
    job = {"id": "12", "job_id": 12, "name": "train", "state": "PENDING"}
    assert squeue_format.render(fmt, job) == "12    train                 PENDING"
    assert squeue_format.render(fmt, None) == "JOBID NAME                    STATE"
    for bad, said in [
        ("JobID,Colour", "unknown --Format field 'Colour'"),
        ("Name:5%", "a suffix after the size cannot hold '%'"),  # "Name:x": x is a suffix, as squeue reads it
        (",", "no field"),
    ]:
        with pytest.raises(ValueError, match=said):
            squeue_format.from_long(bad)
    jobs = [
        {"id": "3", "job_id": 3, "user": "b", "state": "PENDING", "submit_time": 5.0},
        {"id": "1", "job_id": 1, "user": "a", "state": "RUNNING", "submit_time": 9.0, "start_time": 10.0},
        {"id": "2", "job_id": 2, "user": "b", "state": "RUNNING", "submit_time": 7.0, "start_time": 12.0},
    ]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "u,-i")] == [1, 3, 2]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-S")] == [2, 1, 3]  # no start yet: last
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "+V")] == [3, 2, 1]
    with pytest.raises(ValueError, match="unknown --sort key 'Y'"):  # Z: %Z's work dir
        squeue_format.sort_jobs(jobs, "Y")


def test_plain_columns_align_like_squeue() -> None:
    from hal.cli.common import plain_columns

    text = plain_columns(
        ["JOBID", "USER", "PRIORITY"], [["1", "root", "12"], ["100", "eve", "4500"]], {"JOBID", "PRIORITY"}
    )
    assert text.splitlines() == ["JOBID  USER  PRIORITY", "    1  root        12", "  100  eve       4500"]
    assert plain_columns([], [["a", "bb"]]) == "a  bb"


def test_unlimited_sorts_largest_and_widths_are_bounded() -> None:
    import pytest

    from hal.cli import squeue_format

    jobs = [{"job_id": 1, "time_limit": 60.0}, {"job_id": 2, "time_limit": None}, {"job_id": 3, "time_limit": 600.0}]
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-l")] == [2, 3, 1]  # UNLIMITED first, as squeue
    with pytest.raises(ValueError, match="at most 1000"):
        squeue_format.check(squeue_format.from_long("JobID:999999999999"))  # it ran out of memory


def test_priority_code_sort_and_long_name() -> None:
    """squeue %Q / -O priority / -S -p: pending jobs' multifactor priority (hal prio's); N/A for the rest."""
    from hal.cli import squeue_format

    jobs = [
        {"job_id": 1, "id": "1", "priority": 6150.4},
        {"job_id": 2, "id": "2", "priority": None},
        {"job_id": 3, "id": "3", "priority": 7000.0},
    ]
    assert [squeue_format.render("%i:%Q", j) for j in jobs] == ["1:6150", "2:N/A", "3:7000"]
    assert squeue_format.render(squeue_format.from_long("priority:.8"), None) == "PRIORITY"
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "-p")] == [3, 1, 2]  # none last
    assert [j["job_id"] for j in squeue_format.sort_jobs(jobs, "Q")] == [1, 3, 2]


def test_the_table_shows_nodes_or_reason_as_percent_r_does() -> None:
    """NODELIST(REASON) is squeue_format.where's, for running, configuring and SO jobs as for the rest."""
    base = {"partition": "batch", "name": "x", "user": "al", "elapsed": 1.0, "req_nodes": 1, "req_cpus": 1}
    cases = [("RUNNING", "vn001", "vn001"), ("CONFIGURING", "vn[001-002]", "vn[001-002]"),
             ("STAGE_OUT", "vn003", "vn003"), ("RUNNING", "", ""), ("PENDING", "", "(Priority)")]  # fmt: skip
    jobs = [
        {**base, "id": str(i), "job_id": i, "state": state, "nodelist": nodes, "reason": "Priority"}
        for i, (state, nodes, _) in enumerate(cases)
    ]
    rows = [line.split() for line in queue_table(jobs, header=False).splitlines()]
    assert [row[7] if len(row) > 7 else "" for row in rows] == [shown for _, _, shown in cases]

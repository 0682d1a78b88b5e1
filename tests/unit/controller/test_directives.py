"""sbatch's directive rules: which lines count, option forms, time/array/dependency formats, overrides."""

from __future__ import annotations

import pytest

from hal.controller.directives import build_request, wrap_script
from hal.controller.option_values import DirectiveError, early_signal, parse_array, parse_dependency, parse_time
from hal.controller.script_options import parse_args

SCRIPT = """#!/bin/bash
# a comment
#SBATCH --job-name=train -N 2
#SBATCH --ntasks-per-node=4 --cpus-per-task 2   # trailing comment
#HAL --mem=4G
#SBATCH --gres=gpu:4
#SBATCH --time=1-02:03:04 --requeue
echo start
#SBATCH --partition=ignored-after-the-first-command
"""


def test_directives_until_the_first_command() -> None:
    req = build_request(SCRIPT, {}, {"A": "1"}, "/tmp", 0.0)
    assert (req.name, req.nodes, req.tasks, req.cpus_per_task) == ("train", 2, 8, 2)
    assert req.mem_per_task_mb == 4096 * 2 // 8  # --mem is per node
    assert req.gpus_per_task == 1  # four per node, 4 tasks per node
    assert req.time_limit == 86400 + 2 * 3600 + 3 * 60 + 4
    assert req.requeue and req.partition == "" and req.env["A"] == "1" and req.env["SLURM_NTASKS_PER_NODE"] == "4"


def test_command_line_wins() -> None:
    req = build_request(SCRIPT, {"job-name": "cli", "nodes": "1", "time": "5"}, {}, "/w", 0.0)
    assert (req.name, req.nodes, req.tasks, req.time_limit, req.workdir) == ("cli", 1, 4, 300.0, "/w")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10", 600),
        ("10:30", 630),
        ("1:00:00", 3600),
        ("2-0", 172800),
        ("1-1:1", 90060),
        ("0", None),
        ("UNLIMITED", None),
    ],
)
def test_time_formats(text: str, seconds: float | None) -> None:
    assert parse_time(text) == seconds


def test_arrays_and_dependencies() -> None:
    assert parse_array("0-9%3") == (list(range(10)), 3)
    assert parse_array("1,3,5-7") == ([1, 3, 5, 6, 7], None)
    assert parse_array("0-15:4") == ([0, 4, 8, 12], None)
    assert parse_dependency("afterok:12:13,afterany:14_2") == [
        ("afterok", "12"),
        ("afterok", "13"),
        ("afterany", "14_2"),
    ]
    for bad in ("0-", "x", "3-1", "0-9%0", "0-20000"):
        with pytest.raises(DirectiveError):
            parse_array(bad)


def test_export_and_wrap() -> None:
    env = {"HOME": "/h", "SECRET": "s"}
    theirs = lambda req: {k: v for k, v in req.env.items() if not k.startswith("SLURM_")}  # noqa: E731
    assert theirs(build_request("#!/bin/sh\ntrue\n", {"export": "NONE"}, env, "/", 0.0)) == {}
    assert theirs(build_request("#!/bin/sh\ntrue\n", {"export": "HOME,X=1"}, env, "/", 0.0)) == {"HOME": "/h", "X": "1"}
    assert wrap_script("echo hi").startswith("#!/bin/sh\n") and "echo hi" in wrap_script("echo hi")


def test_constraint_lists_the_features_every_node_must_have() -> None:
    req = build_request("#!/bin/sh\n#SBATCH -C a100&nvlink\ntrue\n", {}, {}, "/", 0.0)
    assert req.features == ["a100", "nvlink"]
    assert build_request("#!/bin/sh\ntrue\n", {"constraint": "x,y"}, {}, "/", 0.0).features == ["x", "y"]
    assert build_request("#!/bin/sh\ntrue\n", {"constraint": "intel|amd"}, {}, "/", 0.0).features == ["intel|amd"]


def test_gpu_options_give_each_task_its_share() -> None:
    def per_task(script: str) -> int:
        return build_request("#!/bin/sh\n" + script + "\ntrue\n", {}, {}, "/", 0.0).gpus_per_task

    assert per_task("#SBATCH -N 2 --ntasks-per-node=2 --gpus-per-node=8") == 4
    assert per_task("#SBATCH -n 4 --gpus=8") == 2 and per_task("#SBATCH -n 3 --gpus-per-task=2") == 2
    assert per_task("#SBATCH -N 2 --gres=gpu:8") == 8 and per_task("#SBATCH --gres=gpu") == 1
    assert per_task("#SBATCH -n 8 --ntasks-per-node=4 --gpus-per-node=4") == 1  # nodes decided later: per node
    with pytest.raises(DirectiveError, match="give -N"):  # it spread 4 GPUs over 2 nodes, 2 each
        per_task("#SBATCH -n 4 -c 4 --gres=gpu:4")


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("#!/bin/sh\n#SBATCH --frobnicate\n", "line 2: unknown option --frobnicate"),
        ("#!/bin/sh\n#SBATCH --requeue=yes\n", "--requeue takes no value"),
        ("#!/bin/sh\n#SBATCH --ntasks\n", "--ntasks needs a value"),
        ("#!/bin/sh\n#SBATCH --ntasks=0\n", "--ntasks=0 must be >= 1"),
        ("#!/bin/sh\n#SBATCH stray\n", "unexpected word 'stray'"),
        ("#!/bin/sh\n#SBATCH --mem=lots\n", "--mem='lots'"),
        ("#!/bin/sh\n#SBATCH --gres=fpga:1\n", "only gpu"),
        ("#!/bin/sh\n#SBATCH --gres=gpu:2,gpu:3\n", "only gpu[:TYPE][:N] is supported"),
        ("#!/bin/sh\n#SBATCH --gres=gpu:2:foo\n", "give a whole count"),
        ("#!/bin/sh\n#SBATCH --gres=gpu:h100:-1\n", "give a whole count"),
        ("#!/bin/sh\n#SBATCH -C 'a|b&c'\n", "by '&' (all of them) or by '|' (any one)"),
        ("#!/bin/sh\n#SBATCH --gpus=a:b:2\n", "give a whole count"),
        ("#!/bin/sh\n#SBATCH -N 2 --gres=gpu:8 --gpus=24\n", "--gres and --gpus: ask for GPUs with one of them"),
        ("#!/bin/sh\n#SBATCH -n 4 -G 6\n", "6 GPUs over 4 tasks"),
        ("#!/bin/sh\n#SBATCH -N 2 --switches=1@\n", "give the wait after @"),
        ("#!/bin/sh\n#SBATCH -N 2 --switches=@5\n", "--switches=@5: give the switch count before @ (e.g. 1@5)"),
        ("#!/bin/sh\n#SBATCH -N8-4\n", "--nodes=8-4: the minimum node count (8) is over the maximum (4)"),
        ("#!/bin/sh\n#SBATCH --nodes=2-x\n", "--nodes='2-x' is not a whole number"),
        ("#!/bin/sh\n#SBATCH --exclusive=sometimes\n", "--exclusive=sometimes: use --exclusive, or =user, =mcs or"),
        ("#!/bin/sh\n#SBATCH --segment=2\n", "--segment=2 needs -N/--nodes, a multiple of 2"),
        ("#!/bin/sh\n#SBATCH --begin=someday\n", "--begin='someday'"),
        ("#!/bin/sh\n#SBATCH --job-name=a\x07b\n", "no control characters"),
        ("", "empty"),
        ("#!/bin/sh\n\x00", "binary"),
    ],
)
def test_errors_name_the_line_or_option(script: str, message: str) -> None:
    with pytest.raises(DirectiveError, match=None) as exc:
        build_request(script, {}, {}, "/", 0.0)
    assert message in str(exc.value)


def test_begin_at_a_time_of_day_is_its_next_occurrence() -> None:
    """--begin 07:00 submitted at 07:35 ran at once; Slurm takes the next 07:00 (tomorrow's)."""
    from datetime import datetime

    from hal.controller.option_values import parse_begin

    now = datetime(2026, 11, 30, 7, 35).timestamp()
    assert parse_begin("07:00", now) == datetime(2026, 12, 1, 7, 0).timestamp()
    assert parse_begin("7:40", now) == datetime(2026, 11, 30, 7, 40).timestamp()
    assert parse_begin("08:00:30", now) == datetime(2026, 11, 30, 8, 0, 30).timestamp()
    assert parse_begin("midnight", now) == parse_begin("tomorrow", now) == datetime(2026, 12, 1).timestamp()
    assert parse_begin("teatime", now) == datetime(2026, 11, 30, 16, 0).timestamp()
    assert parse_begin("now+2hours", now) == now + 7200
    assert parse_begin("8pm", now) == datetime(2026, 11, 30, 20, 0).timestamp()
    assert parse_begin("10:00AM", now) == datetime(2026, 11, 30, 10, 0).timestamp()
    assert parse_begin("12:30am", now) == datetime(2026, 12, 1, 0, 30).timestamp()  # past: tomorrow's
    assert parse_begin("12/25", now) == datetime(2026, 12, 25).timestamp()
    assert parse_begin("1/2", now) == datetime(2027, 1, 2).timestamp()  # past this year: next year's


def test_mem_zero_is_all_of_each_nodes_memory_and_sbatch_variables_set_options() -> None:
    from hal.cli.submit import input_environment
    from hal.controller.directives import build_request

    whole = build_request("#!/bin/sh\n#SBATCH --mem=0\ntrue\n", {}, {}, "/", 0.0)
    assert whole.exclusive and "all of each node's memory" in whole.notes[0]  # it reserved no memory at all
    env = {"SBATCH_PARTITION": "debug", "SBATCH_TIMELIMIT": "10", "SBATCH_EXCLUSIVE": "1", "SBATCH_HOLD": "0",
           "SBATCH_QOS": "", "PATH": "/bin", "SBATCH_OUTPUT": "o-%j.out"}  # fmt: skip
    assert input_environment(env) == {"partition": "debug", "time": "10", "exclusive": True, "output": "o-%j.out"}


def test_default_log_names_are_sbatchs_and_patterns_zero_pad() -> None:
    """The controller named files hal-%j.out with its own pattern code, which left %4j as typed (QA)."""
    from hal.controller.jobs import log_paths

    live = type("L", (), {})()
    live.request = build_request("#!/bin/sh\ntrue\n", {}, {}, "/w", 0.0)
    live.job_id, live.user, live.array_job_id, live.array_task_id = 42, "al", None, None
    assert log_paths(live, "n0") == ("/w/slurm-42.out", "/w/slurm-42.out")  # type: ignore[arg-type]
    live.request = build_request("#!/bin/sh\ntrue\n", {"output": "r-%4j.%x.out"}, {}, "/w", 0.0)
    live.array_job_id, live.array_task_id = 40, 2
    assert log_paths(live, "n0")[0] == "/w/r-0042.hal.out"  # type: ignore[arg-type]


def test_slurms_request_variables_reach_the_job() -> None:
    req = build_request(
        "#!/bin/sh\ntrue\n", {"array": "1-9:4", "ntasks-per-node": "2", "nodes": "1", "mem-per-cpu": "1G"}, {}, "/", 0
    )
    want = {"SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9",
            "SLURM_ARRAY_TASK_STEP": "4", "SLURM_NTASKS_PER_NODE": "2", "SLURM_MEM_PER_CPU": "1024",
            "SLURM_JOB_QOS": "normal"}  # fmt: skip
    assert {k: req.env[k] for k in want} == want


def test_slurm_hints_are_accepted_with_a_note_and_test_only_is_read() -> None:
    """A script carrying --hint, --cpu-bind or -s (most do) was refused whole (QA)."""
    script = "#!/bin/sh\n#SBATCH --hint=nomultithread --cpu-bind=cores -s -v\n#SBATCH --signal=B:USR1@60\ntrue\n"
    req = build_request(script, {}, {}, "/", 0.0)
    notes = req.notes
    assert req.signal == "B:USR1@60" and not any("signal" in n for n in notes)  # acted on now
    assert "accepted but not acted on by HAL: --cpu-bind, --hint, --oversubscribe, --verbose" in notes
    assert build_request("#!/bin/sh\n#SBATCH --test-only\ntrue\n", {}, {}, "/", 0.0).test_only  # forecast only


@pytest.mark.parametrize(
    ("text", "want"),
    [("USR1", (10, 60, False)), ("B:SIGUSR2@120", (12, 120, True)), ("RB:15@5", (15, 5, True)),
     ("R:10", (10, 60, False)), ("b:usr1@0", (10, 0, True)), ("", None)],
)  # fmt: skip
def test_early_signal_reads_slurms_forms(text: str, want: tuple[int, int, bool] | None) -> None:
    assert early_signal(text) == want


@pytest.mark.parametrize(
    ("text", "said"),
    [("KILL@10", "cannot be sent as a warning"), ("FOO", "not a signal name"), ("X:USR1", "R, B or RB"),
     ("USR1@soon", "seconds before the time limit"), ("USR1@70000", "at most 65535"), ("99", "cannot be sent")],
)  # fmt: skip
def test_early_signal_refuses_what_slurm_refuses(text: str, said: str) -> None:
    with pytest.raises(DirectiveError, match=said):
        build_request(f"#!/bin/sh\n#SBATCH --signal={text}\ntrue\n", {}, {}, "/", 0.0)


def test_typed_gpus_need_nodes_of_that_type() -> None:
    """--gres=gpu:a100:2 (and gpu:a100, --gpus=a100:4) ask for that many GPUs on nodes whose gpu_type is a100."""
    for script, gpus, features in [
        ("#SBATCH --gres=gpu:a100:2", 2, ["gpu:a100"]),
        ("#SBATCH --gres=gpu:h100", 1, ["gpu:h100"]),
        ("#SBATCH -n 2 --gpus=a100:4 -C ib", 2, ["ib", "gpu:a100"]),
        ("#SBATCH --gres=gpu:2", 2, []),
    ]:
        req = build_request(f"#!/bin/sh\n{script}\ntrue\n", {}, {}, "/", 0.0)
        assert (req.gpus_per_task, list(req.node_features())) == (gpus, features), script


def test_switches_at_zero_means_no_wait() -> None:
    """--switches=1@0 waited max_switch_wait (300 s): parse_time reads 0 as 'no limit' (QA)."""

    def wait(text: str) -> float | None:
        return build_request("#!/bin/sh\ntrue\n", {"switches": text, "nodes": "2"}, {}, "/", 0.0).switches_wait

    assert (wait("1@0"), wait("1@0:00"), wait("1@unlimited"), wait("1@2"), wait("1")) == (0.0, 0.0, None, 120.0, None)
    with pytest.raises(DirectiveError, match="wait at most 365 days"):
        wait("1@99999999999999999")


def test_empty_dataset_names_are_refused() -> None:
    for text in ("", "big,,tiny"):
        with pytest.raises(DirectiveError, match="an empty dataset name"):
            build_request("#!/bin/sh\ntrue\n", {"input-data": text}, {}, "/", 0.0)


def test_data_options_given_twice_both_count() -> None:
    """--input-data A --input-data B (or two #SBATCH lines) kept B alone, and the job failed reading A."""
    script = "#!/bin/sh\n#SBATCH --input-data=a\n#SBATCH --input-data=b,c\n#SBATCH --output-data=o\ntrue\n"
    req = build_request(script, {}, {}, "/tmp", 0.0)
    assert (req.inputs, req.outputs) == (["a", "b", "c"], ["o"])
    assert parse_args(["--input-data", "a", "--input-data=b"], "cli") == {"input-data": "a,b"}
    assert parse_args(["--time=5", "--time=6"], "cli") == {"time": "6"}  # the rest: the last one, as sbatch


def test_exclusive_takes_slurms_values() -> None:
    """QA: #SBATCH --exclusive=user/topo/mcs refused the script ("takes no value"). Each is now kept as the mode
    the engine applies (engine/sharing.py); =mcs says that HAL treats it as =user."""
    plain = build_request("#!/bin/sh\n#SBATCH --exclusive\ntrue\n", {}, {}, "/", 0.0)
    assert plain.exclusive is True and plain.notes == []
    for value in ("user", "mcs", "topo"):
        req = build_request(f"#!/bin/sh\n#SBATCH --exclusive={value}\ntrue\n", {}, {}, "/", 0.0)
        assert req.exclusive == value, value
        assert len(req.notes) == (value == "mcs") and all("whole nodes" not in n for n in req.notes)
    assert build_request("#!/bin/sh\ntrue\n", {"exclusive": "topo"}, {}, "/", 0.0).exclusive == "topo"  # the API's
    assert parse_args(["--exclusive=user", "-N2"], "x") == {"exclusive": "user", "nodes": "2"}


@pytest.mark.parametrize(
    ("opts", "nodes", "tasks"),
    [
        ({"ntasks-per-node": "3"}, 1, 3),  # sbatch: one node with 3 tasks (was 3 tasks spread anywhere)
        ({"ntasks-per-node": "4", "ntasks": "8"}, 2, 8),
        ({"ntasks-per-node": "4", "ntasks": "6"}, 2, 6),
        ({"ntasks-per-node": "2", "nodes": "3"}, 3, 6),
        ({"ntasks": "5"}, None, 5),  # no per-node count: the tasks go wherever they fit
    ],
)
def test_ntasks_per_node_sets_the_nodes_as_sbatch_does(opts: dict[str, str], nodes: int | None, tasks: int) -> None:
    """QA: --ntasks-per-node=3 on 2-CPU nodes ran as 3 tasks on 2 nodes instead of being refused."""
    req = build_request("#!/bin/sh\ntrue\n", opts, {}, "/w", 0.0)
    assert (req.nodes, req.tasks) == (nodes, tasks)


def test_time_min_is_a_time_and_names_itself_when_it_is_not() -> None:
    req = build_request("#!/bin/sh\n#SBATCH --time=12:00:00 --time-min=2:00:00\ntrue\n", {}, {}, "/w", 0.0)
    assert (req.time_limit, req.time_min) == (43200.0, 7200.0)
    assert build_request(SCRIPT, {"time-min": "0"}, {}, "/w", 0.0).time_min is None  # 0: no minimum
    for bad, said in (("UNLIMITED", "invalid --time-min specification"), ("soon", "--time-min='soon'")):
        with pytest.raises(DirectiveError, match=said):
            build_request(SCRIPT, {"time-min": bad}, {}, "/w", 0.0)

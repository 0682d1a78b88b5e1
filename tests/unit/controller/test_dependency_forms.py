"""Slurm's other --dependency forms through a real controller: a bare job id (afterany), after:JOB+MIN, '?'
(any one of) and aftercorr (task N after task N); each was refused at submission before (QA cli2 #2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.api.views import record, typed_dependencies
from hal.controller.admission import resolve_deps
from hal.controller.auth import Identity
from hal.controller.directives import build_request
from hal.controller.holds import set_hold
from hal.controller.option_values import DirectiveError, parse_dependency
from hal.controller.update import update
from hal.executors.api import ExecEvent, ExecEventKind
from hal.model.job import JobState
from tests.clusters import cluster_toml
from tests.unit.controller.test_parked import controller
from tests.unit.controller.topokit import submit

CLUSTER = cluster_toml(name="c", nodes=2, cpus=2, mem="1G")
ADMIN = Identity("root", admin=True)


def end(ctl: object, job: int, ok: bool = True) -> None:
    """The executor's report that ``job`` ended (exit 0, or 1 when not ``ok``)."""
    state, code = (JobState.COMPLETED, 0) if ok else (JobState.FAILED, 1)
    now = ctl.clock()  # type: ignore[attr-defined]
    ctl._handle([ExecEvent(job, ExecEventKind.ENDED, now, state, code, None, 0.0, 0.0, "")])  # type: ignore[attr-defined]


def shown(ctl: object, job: int) -> dict[str, object]:
    """The job as `hal show` and squeue get it (with its pending reason)."""
    return record(dict(ctl.annotate([ctl.store.get(job)])[0]), 0.0, detail=True)  # type: ignore[attr-defined]


def test_a_bare_job_id_is_afterany() -> None:
    assert parse_dependency("72") == [("afterany", "72")]
    assert parse_dependency("72_3,afterok:5") == [("afterany", "72_3"), ("afterok", "5")]
    with pytest.raises(DirectiveError, match="JOBID or singleton"):
        parse_dependency("72x")


def test_a_bare_job_id_waits_for_that_job_to_end_in_any_state(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        first = submit(ctl, tmp_path, time="10:00")
        typed = submit(ctl, tmp_path, time="10:00", dependency=str(first))
        script = f"#!/bin/sh\n#SBATCH -d {first}\ntrue\n"
        directive = int(ctl.submit(build_request(script, {}, {}, str(tmp_path), 0), "root").job_ids[0])
        later = submit(ctl, tmp_path, time="10:00", hold="")
        update(ctl, str(later), ADMIN, {"Dependency": str(first)})
        ctl.run_cycle()
        for job in (typed, directive, later):
            assert shown(ctl, job)["dependencies"] == [f"afterany:{first}"]
        assert [shown(ctl, j)["reason"] for j in (typed, directive)] == ["Dependency", "Dependency"]
        end(ctl, first, ok=False)  # afterany: a failure releases it too
        ctl.run_cycle()
        assert [shown(ctl, j)["state"] for j in (typed, directive)] == ["RUNNING", "RUNNING"]


def test_after_with_minutes_starts_that_long_after_the_job_started(tmp_path: Path) -> None:
    assert parse_dependency("after:5+2:6_1") == [("after", "5+2"), ("after", "6_1")]
    with pytest.raises(DirectiveError, match=r"only after:JOB\+MINUTES"):
        parse_dependency("afterok:5+2")
    with controller(tmp_path, CLUSTER) as ctl:
        real = ctl.clock
        first = submit(ctl, tmp_path, time="10:00")
        ctl.run_cycle()
        began = float(ctl.store.get(first)["start_time"])
        late = submit(ctl, tmp_path, time="10:00", dependency=f"after:{first}+2")
        ctl.run_cycle()
        assert shown(ctl, late)["reason"] == "Dependency"
        assert shown(ctl, late)["dependencies"] == [f"after:{first}+2"]
        ctl.clock = lambda: real() + 121.0
        ctl.run_cycle()
        assert shown(ctl, late)["state"] == "RUNNING"
        assert float(ctl.store.get(late)["start_time"]) >= began + 120.0


def test_the_minutes_of_after_survive_a_restart(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        first = submit(ctl, tmp_path, time="10:00", hold="")
        late = submit(ctl, tmp_path, time="10:00", dependency=f"after:{first}+2")
    with controller(tmp_path, CLUSTER) as ctl:  # recovered from the stored request
        real = ctl.clock
        set_hold(ctl, str(first), ADMIN, False)
        ctl.run_cycle()
        assert (shown(ctl, first)["state"], shown(ctl, late)["reason"]) == ("RUNNING", "Dependency")
        ctl.clock = lambda: real() + 121.0
        ctl.run_cycle()
        assert shown(ctl, late)["state"] == "RUNNING"


def test_a_question_mark_list_lets_the_job_go_once_any_one_is_met(tmp_path: Path) -> None:
    assert parse_dependency("afterok:5?afternotok:6") == [("afterok", "5"), ("afternotok", "6"), ("?", "")]
    with pytest.raises(DirectiveError, match=r"',' \(all of\) or '\?' \(any of\)"):
        parse_dependency("afterok:5?afterok:6,afterok:7")
    script = "#!/bin/sh\n#SBATCH -d afterok:5?afterany:6\ntrue\n"
    assert build_request(script, {}, {}, "/", 0).dependencies == [("afterok", "5"), ("afterany", "6"), ("?", "")]
    with controller(tmp_path, CLUSTER) as ctl:
        one, two = submit(ctl, tmp_path, time="10:00"), submit(ctl, tmp_path, time="10:00")
        held = submit(ctl, tmp_path, time="10:00", hold="")
        either = submit(ctl, tmp_path, time="10:00", dependency=f"afterok:{one}?afterok:{two}")
        rescue = submit(ctl, tmp_path, time="10:00", hold="")
        update(ctl, str(rescue), ADMIN, {"Dependency": f"afternotok:{one}?afternotok:{two}"})
        set_hold(ctl, str(rescue), ADMIN, False)
        waits = submit(ctl, tmp_path, time="10:00", dependency=f"afterok:{one}?afterok:{held}")
        ctl.run_cycle()
        assert shown(ctl, either)["dependencies"] == [f"afterok:{one}?afterok:{two}"]
        end(ctl, one, ok=False)
        ctl.run_cycle()
        assert (shown(ctl, either)["reason"], shown(ctl, rescue)["state"]) == ("Dependency", "RUNNING")
        end(ctl, two)
        ctl.run_cycle()
        assert shown(ctl, either)["state"] == "RUNNING"
    with controller(tmp_path, CLUSTER) as ctl:  # a restart reads the '?' back from the stored request
        ctl.run_cycle()
        assert shown(ctl, waits)["reason"] == "Dependency"  # the held job may still succeed
        assert shown(ctl, waits)["dependencies"] == [f"afterok:{one}?afterok:{held}"]
        ctl.cancel(str(held), ADMIN)
        ctl.run_cycle()
        assert shown(ctl, waits)["reason"] == "DependencyNeverSatisfied"


def test_aftercorr_starts_task_n_after_task_n_completed_ok(tmp_path: Path) -> None:
    assert parse_dependency("aftercorr:7") == [("aftercorr", "7")]
    big = cluster_toml(name="c", nodes=4, cpus=4, mem="4G")
    with controller(tmp_path, big) as ctl:
        first = int(
            ctl.submit(build_request("#!/bin/sh\nsleep 30\n", {"array": "0-2"}, {}, str(tmp_path), 0), "a").job_ids[0]
        )
        script = f"#!/bin/sh\n#SBATCH --array=0-3\n#SBATCH -d aftercorr:{first}\ntrue\n"
        ids = [int(j) for j in ctl.submit(build_request(script, {}, {}, str(tmp_path), 0), "a").job_ids]
        ctl.run_cycle()
        # task 3 has no counterpart: met at once (Slurm); the others wait for their own
        assert [shown(ctl, j)["state"] for j in ids] == ["PENDING", "PENDING", "PENDING", "RUNNING"]
        assert shown(ctl, ids[0])["dependencies"] == [f"aftercorr:{first}"]
        end(ctl, first + 1)  # task 1 completed: only task 1 goes
        end(ctl, first + 2, ok=False)  # task 2 failed: task 2 never can
        ctl.run_cycle()
        assert [shown(ctl, j)["state"] for j in ids[:3]] == ["PENDING", "RUNNING", "PENDING"]
        assert [shown(ctl, j)["reason"] for j in (ids[0], ids[2])] == ["Dependency", "DependencyNeverSatisfied"]
    with controller(tmp_path, big) as ctl:  # a restart: each task keeps its own counterpart
        ctl.run_cycle()
        assert shown(ctl, ids[2])["reason"] == "DependencyNeverSatisfied"
        waits = submit(ctl, tmp_path, time="10:00", hold="")
        update(ctl, str(waits), ADMIN, {"Dependency": f"aftercorr:{first}"})  # no array task: every task
        set_hold(ctl, str(waits), ADMIN, False)
        ctl.run_cycle()
        assert shown(ctl, waits)["reason"] == "DependencyNeverSatisfied"


def test_after_with_minutes_on_a_job_cancelled_before_it_started_counts_from_the_cancel(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        real = ctl.clock
        never = submit(ctl, tmp_path, time="10:00", hold="")
        late = submit(ctl, tmp_path, time="10:00", dependency=f"after:{never}+2")
        ctl.run_cycle()
        ctl.cancel(str(never), ADMIN)
        ctl.run_cycle()
        assert shown(ctl, late)["reason"] == "Dependency"  # Slurm: 2 minutes from the cancellation
        ctl.clock = lambda: real() + 121.0
        ctl.run_cycle()
        assert shown(ctl, late)["state"] == "RUNNING"


def test_an_afterok_hal_adds_for_an_input_s_writer_stays_required_beside_a_question_mark_list(tmp_path: Path) -> None:
    """admit_data appends the writer's afterok after the '?' marker: it is no alternative, and is shown apart."""
    with controller(tmp_path, CLUSTER) as ctl:
        one, two, writer = (submit(ctl, tmp_path, time="10:00", hold="") for _ in range(3))
        pairs = [("afterok", str(one)), ("afterok", str(two)), ("?", ""), ("afterok", str(writer))]
        got = [(d[1], d[4]) for d in resolve_deps(ctl.store, pairs)]
        assert got == [(one, True), (two, True), (writer, False)]
        assert typed_dependencies([list(p) for p in pairs]) == [f"afterok:{one}?afterok:{two}", f"afterok:{writer}"]


def test_after_with_minutes_on_a_job_that_ended_before_a_restart_still_counts_from_its_start(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        first = submit(ctl, tmp_path, time="10:00")
        ctl.run_cycle()
        end(ctl, first)
        late = submit(ctl, tmp_path, time="10:00", dependency=f"after:{first}+2")
        ctl.run_cycle()
        assert shown(ctl, late)["reason"] == "Dependency"
    with controller(tmp_path, CLUSTER) as ctl:
        real = ctl.clock
        ctl.run_cycle()
        assert shown(ctl, late)["reason"] == "Dependency"  # it was met at once: the start was not re-read
        ctl.clock = lambda: real() + 121.0
        ctl.run_cycle()
        assert shown(ctl, late)["state"] == "RUNNING"


def test_after_with_minutes_named_after_a_restart_counts_from_the_ended_job_s_start(tmp_path: Path) -> None:
    with controller(tmp_path, CLUSTER) as ctl:
        first = submit(ctl, tmp_path, time="10:00")
        ctl.run_cycle()
        end(ctl, first)
    with controller(tmp_path, CLUSTER) as ctl:
        real = ctl.clock
        late = submit(ctl, tmp_path, time="10:00", dependency=f"after:{first}+2")
        ctl.run_cycle()
        assert shown(ctl, late)["reason"] == "Dependency"
        ctl.clock = lambda: real() + 121.0
        ctl.run_cycle()
        assert shown(ctl, late)["state"] == "RUNNING"

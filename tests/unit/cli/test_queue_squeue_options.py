"""QA findings on hal queue against squeue, with a fake API client: squeue's option names and aliases (--users,
--partitions, --nodes, -A, -q, -s, -v, -M, --hide, --local, -i) were refused with exit 2; SQUEUE_FORMAT and the
other SQUEUE_* variables were ignored; -u took no uid and listed nothing for an unknown user; common -o codes
(%E %k %o %U %p %B %c %d %f %h %w %x %g %G %v %s) were refused; %R showed (None) for a completed job; -j 1.0 was
an invalid id."""

from __future__ import annotations

import pwd
from typing import Any

import pytest

from hal.cli import squeue_format
from tests.unit.cli.test_queue_submit_qa import T0, FakeClient, job, run


class Client(FakeClient):
    """Also what -u, -M and the request codes ask: whoami, shares, the cluster's name and request details."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        super().__init__(jobs)
        self.filters: list[dict[str, Any]] = []

    def nodes(self) -> dict[str, Any]:
        return super().nodes() | {"cluster": "hal"}

    def whoami(self) -> dict[str, Any]:
        return {"user": "al", "admin": True}

    def shares(self) -> dict[str, Any]:
        return {"users": [{"user": "al"}, {"user": "bo"}]}

    def list(self, state: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        self.filters.append(filters)
        users = set(filters["user"].split(",")) if filters.get("user") else None
        return [j for j in super().list(state, **filters) if users is None or j["user"] in users]


JOBS = [
    job(1, "RUNNING", nodelist="vn[000-001]", start_time=T0, elapsed=60.0, account="phys", qos="normal"),
    job(2, account="Chem", qos="high", user="bo"),
    job(3, "COMPLETED", nodelist="vn002", start_time=T0, end_time=T0 + 10, reason=None),
    job(4, "FAILED", nodelist="vn003", start_time=T0, end_time=T0 + 10, reason="NonZeroExitCode"),
    job(5, "CANCELLED", reason=None),  # cancelled while it waited: no nodes
]


def ids(monkeypatch: pytest.MonkeyPatch, *args: str, jobs: list[dict[str, Any]] = JOBS) -> list[str]:
    res = run(monkeypatch, Client(jobs), "queue", "-h", "-o", "%i", *args)
    assert res.exit_code == 0, res.output
    return list(res.stdout.split())


def test_squeue_option_names_and_aliases_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ids(monkeypatch, "--users=bo") == ["2"]
    assert ids(monkeypatch, "--partitions=batch") == ["1", "2"]
    assert ids(monkeypatch, "--nodes=vn001") == ids(monkeypatch, "--node=vn000") == ["1"]
    assert ids(monkeypatch, "--job=2") == ["2"]
    assert ids(monkeypatch, "-A", "chem") == ids(monkeypatch, "--account=CHEM") == ["2"]  # as squeue: any case
    assert ids(monkeypatch, "-q", "normal,low") == ids(monkeypatch, "--qos=NORMAL") == ["1"]
    assert ids(monkeypatch, "--hide", "--all", "--local", "-v") == ["1", "2"]
    assert ids(monkeypatch, "-M", "hal") == ids(monkeypatch, "--clusters=all") == ["1", "2"]
    headed = run(monkeypatch, Client(JOBS), "queue", "-M", "hal", "-o", "%i").stdout.splitlines()
    assert headed[:2] == ["CLUSTER: hal", "JOBID"]  # squeue -M heads the listing with its cluster
    other = run(monkeypatch, Client(JOBS), "queue", "-M", "elsewhere")
    assert other.exit_code == 1 and "'elsewhere' can't be reached" in other.output


def test_steps_list_none_with_squeues_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (["-s"], ["--steps"], ["-s", "1.0"]):
        res = run(monkeypatch, Client(JOBS), "queue", *args)
        assert res.exit_code == 0, res.output
        assert res.stdout.split() == ["STEPID", "NAME", "PARTITION", "USER", "TIME", "NODELIST"]
        assert "HAL records no job steps" in res.stderr
    stray = run(monkeypatch, Client(JOBS), "queue", "1.0")
    assert stray.exit_code == 1 and "Unrecognized option: 1.0" in stray.output


def test_iterate_lists_again_until_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("hal.cli.queue.time.sleep", sleep)
    res = run(monkeypatch, Client(JOBS), "queue", "-i", "5", "-o", "%i")
    assert res.exit_code == 130 and naps == [5, 5]
    lines = res.stdout.splitlines()
    assert lines.count("JOBID") == 2 and lines.count("") == 2  # the date, the listing, a blank line, twice
    assert lines[1:4] == ["JOBID", "1", "2"]
    bad = run(monkeypatch, Client(JOBS), "queue", "--iterate=0")
    assert bad.exit_code == 1 and "--iterate=0" in bad.output


def test_long_listing_starts_with_the_date_as_squeues(monkeypatch: pytest.MonkeyPatch) -> None:
    """squeue -l (and -v) print the date before the listing unless -h; -l with -o takes -o's columns."""
    monkeypatch.setattr("hal.cli.queue.time.ctime", lambda: "Tue Dec  1 22:10:00 2026")
    lines = run(monkeypatch, Client(JOBS), "queue", "-l").stdout.splitlines()
    assert lines[0] == "Tue Dec  1 22:10:00 2026" and lines[1].split()[:3] == ["JOBID", "PARTITION", "NAME"]
    assert "2026" not in run(monkeypatch, Client(JOBS), "queue", "-l", "-h").stdout
    assert run(monkeypatch, Client(JOBS), "queue", "-l", "-o", "%i").stdout.splitlines() == [
        "Tue Dec  1 22:10:00 2026",
        "JOBID",
        "1",
        "2",
    ]
    both = run(monkeypatch, Client(JOBS), "queue", "-o", "%i", "-O", "jobid")
    assert both.exit_code != 0 and "one of -o/--format and -O/--Format" in both.output


def test_squeue_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUEUE_FORMAT", "%i|%u")
    assert run(monkeypatch, Client(JOBS), "queue", "-h").stdout.split() == ["1|al", "2|bo"]
    assert ids(monkeypatch) == ["1", "2"]  # -o wins
    monkeypatch.setenv("SQUEUE_SORT", "-i")
    assert ids(monkeypatch) == ["2", "1"]
    monkeypatch.delenv("SQUEUE_FORMAT")
    monkeypatch.setenv("SQUEUE_FORMAT2", "JobID:4,UserName:3")
    assert run(monkeypatch, Client(JOBS), "queue", "-h").stdout.splitlines() == ["2   bo ", "1   al "]
    monkeypatch.setenv("SQUEUE_USERS", "al")
    assert ids(monkeypatch) == ["1"]


def test_users_by_uid_and_unknown_users(monkeypatch: pytest.MonkeyPatch) -> None:
    root = pwd.getpwuid(0).pw_name
    fake = Client([*JOBS, job(6, user=root)])
    res = run(monkeypatch, fake, "queue", "-h", "-u", "0", "-o", "%i")
    assert res.exit_code == 0 and res.stdout.split() == ["6"] and fake.filters[-1]["user"] == root
    for bad in ("nosuch", "al,nosuch"):
        res = run(monkeypatch, Client(JOBS), "queue", "-u", bad)
        assert res.exit_code == 1 and "Invalid user: nosuch" in res.output, res.output
    res = run(monkeypatch, Client(JOBS), "queue", "-u", "4294967")
    assert res.exit_code == 1 and "Invalid user: 4294967" in res.output


def test_request_codes_and_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    root = pwd.getpwuid(0).pw_name
    waits = job(
        7, user=root, req_cpus=8, req_tasks=2, dependencies=["afterok:1", "afterany:2"], comment="run 3",
        features=["a100", "ib"], exclude=["vn001", "vn002"], exclusive=True, req_nodelist=["vn003", "vn004"],
    )  # fmt: skip
    fake = Client([JOBS[0], waits])
    fmt = "%i|%E|%k|%o|%U|%B|%c|%d|%f|%h|%w|%x|%g|%G|%v|%s|%n|"
    lines = run(monkeypatch, fake, "queue", "-o", fmt).stdout.splitlines()
    assert fake.filters[-1].get("detail") is True  # %E and the others are in the request details
    assert lines[0] == (
        "JOBID|DEPENDENCY|COMMENT|COMMAND|UID|EXEC_HOST|MIN_CPUS|MIN_TMP_DISK|FEATURES|OVER_SUBSCRIBE|WCKEY|"
        "EXC_NODES|GROUP|GROUP|RESERVATION||REQ_NODES|"
    )
    assert lines[1] == "1|(null)|(null)|(null)|N/A|vn000|1|0|(null)|OK|(null)||N/A|N/A|(null)|||"
    group = squeue_format.CODES["g"]({"user": root})
    assert lines[2] == (
        f"7|afterok:1(unfulfilled),afterany:2(unfulfilled)|run 3|(null)|0|n/a|4|0|a100&ib|NO|(null)|vn[001-002]|"
        f"{group}|0|(null)||vn[003-004]|"
    )
    assert squeue_format.from_long("ReqNodes:12,ExcNodes") == "%12n%20x"  # squeue -O ReqNodes (QA)
    assert squeue_format.from_long("JobID:.12|,Name:6,State:|") == "%.12i|%6j%20T|"  # a suffix after the size (QA)
    assert squeue_format.CODES["E"](waits | {"reason": "DependencyNeverSatisfied"}).endswith("afterany:2(failed)")
    assert squeue_format.CODES["E"](waits | {"eligible": T0}) == "(null)"  # met: none remain
    plain = Client(JOBS)
    run(monkeypatch, plain, "queue", "-o", "%i %U")
    assert "detail" not in plain.filters[-1]  # only the codes that need them ask for the details


def test_p_is_squeues_fraction_and_userid_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    prio = {"order": "multifactor", "weights": {}, "jobs": [{"job_id": 2, "priority": 4294967295}]}
    fake = Client(JOBS)
    fake.prio = prio
    out = run(monkeypatch, fake, "queue", "-h", "-o", "%i %p").stdout.splitlines()
    assert out == ["1 N/A", "2 1.00000000000000"]  # %16.14f of priority / (2^32 - 1)
    assert squeue_format.CODES["p"]({"priority": 1000}) == "0.00000023283064"
    assert squeue_format.from_long("UserId:4,UserName:3") == "%4U%3u"


def test_reason_or_nodes_follows_squeues_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: -t CD showed (None) for a completed job; squeue shows an ended job's nodes, and (reason) only for
    pending, timed-out, out-of-memory, deadline and failed jobs."""
    res = run(monkeypatch, Client(JOBS), "queue", "-h", "-t", "all", "-S", "i", "-o", "%i %R")
    assert res.stdout.splitlines() == ["1 vn[000-001]", "2 (Priority)", "3 vn002", "4 (NonZeroExitCode)", "5 "]
    table = run(monkeypatch, Client(JOBS), "queue", "-h", "-t", "CD", "-j", "3").stdout
    assert table.split()[-1] == "vn002"


def test_a_step_id_names_its_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: -j 1.0 and -j 1.batch were 'Invalid job id'; squeue reads the job's number."""
    assert ids(monkeypatch, "-j", "1.0") == ids(monkeypatch, "--jobs=1.batch") == ["1"]
    assert ids(monkeypatch, "-j", "1.batch,2.extern") == ["1", "2"]
    bad = run(monkeypatch, Client(JOBS), "queue", "-j", "1.")
    assert bad.exit_code == 1 and "Invalid job id: 1." in bad.output


def test_a_listing_asks_once_per_user_not_per_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """whoami was up to three requests a listing, and %U %g %G a passwd lookup per job and code."""
    from hal.cli import squeue_request_codes

    class Counted(Client):
        whoamis = 0

        def whoami(self) -> dict[str, Any]:
            self.whoamis += 1
            return super().whoami()

    for args in (["-u", "al,bo"], ["--me"]):
        fake = Counted(JOBS)
        assert run(monkeypatch, fake, "queue", "-h", *args).exit_code == 0
        assert fake.whoamis == 1, args
    looked: list[str] = []
    lookup = pwd.getpwnam

    def counted(name: str) -> pwd.struct_passwd:
        looked.append(name)
        return lookup(name)

    monkeypatch.setattr(pwd, "getpwnam", counted)
    squeue_request_codes._account.cache_clear()
    many = [job(i, user="bo") for i in range(10, 20)]
    assert run(monkeypatch, Client(many), "queue", "-h", "-o", "%i %U %g %G").exit_code == 0
    assert looked == ["bo"]


def test_nice_and_sockets_cores_threads_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: -o '%i|%y|%z' was refused as unknown codes; squeue prints the nice value and, for a job that asked no
    sockets:cores:threads (HAL takes none), *:*:*."""
    fake = Client([JOBS[0] | {"nice": 0}, job(7, nice=50)])
    lines = run(monkeypatch, fake, "queue", "-o", "%i|%y|%z").stdout.splitlines()
    assert fake.filters[-1].get("detail") is True  # the nice value is in the request details
    assert lines == ["JOBID|NICE|S:C:T", "1|0|*:*:*", "7|50|*:*:*"]
    assert squeue_format.from_long("Nice:5,SCT") == "%5y%20z"

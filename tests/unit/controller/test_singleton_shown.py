"""--dependency=singleton shows as Slurm shows it (hal show's Dependency=singleton, squeue %E's
singleton(unfulfilled)), also after `hal update J Dependency=singleton`; QA: both printed afterany:ID for the jobs
it resolved to. It still waits for the user's unended jobs of the same name; rows stored before read as they did."""

from __future__ import annotations

from pathlib import Path

from hal.api.server import ServerOptions, build
from hal.api.views import record
from hal.cli.squeue_request_codes import _dependency
from hal.controller.directives import build_request
from hal.controller.update import update
from tests.unit.controller.topokit import ADMIN

SCRIPT = "#!/bin/sh\ntrue\n"


def test_singleton_is_shown_as_typed_and_still_waits(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('name = "t"\n[[nodes]]\nprefix = "n"\ncount = 1\ncpus = 1\n')
    ctl, _app, _store, executor = build(
        ServerOptions(home=tmp_path / "home", executor="dev", cluster=tmp_path / "c.toml")
    )
    try:

        def submit(**options: str) -> int:
            return ctl.submit(build_request(SCRIPT, {"hold": "1", **options}, {}, "/", 0), "root").job_ids[0]

        def shown(job: int) -> list[str]:
            return list(record(ctl.store.get(job), 0.0, detail=True)["dependencies"])

        first = submit(**{"job-name": "sg"})
        again = submit(**{"job-name": "sg", "dependency": f"afterok:{first},singleton"})
        alone = submit(**{"job-name": "solo", "dependency": "singleton"})
        assert shown(again) == [f"afterok:{first}", "singleton"] and shown(alone) == ["singleton"]
        assert [(d.kind.value, d.job_id) for d in ctl.live[again].spec.dependencies] == [
            ("afterok", first),
            ("afterany", first),
        ]  # the wait it resolves to is unchanged
        assert ctl.live[alone].spec.dependencies == ()
        rec = {"state": "PENDING", "dependencies": shown(again)}
        assert _dependency(rec) == f"afterok:{first}(unfulfilled),singleton(unfulfilled)"
        later = submit(**{"job-name": "sg"})
        update(ctl, str(later), ADMIN, {"Dependency": "singleton"})
        assert shown(later) == ["singleton"]
        assert {d.job_id for d in ctl.live[later].spec.dependencies} == {first, again}  # `again` does not wait for it
    finally:
        executor.shutdown()


def test_rows_stored_before_show_their_afterany_pairs() -> None:
    from hal.api.views import typed_dependencies

    assert typed_dependencies([["afterany", "6"], ["afterok", "7_1"]]) == ["afterany:6", "afterok:7_1"]

"""`hal dataset show|rm|add-copy|rm-copy` refuse a name with a '/' as no dataset name, as they refuse '..' (QA
LOW-2: the server found no route for it, and the client blamed an older HAL: "does not offer GET
/v1/datasets/a%2Fb: is it an older HAL? restart it")."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hal.cli.dataset import app


@pytest.mark.parametrize(
    "args",
    [["show", "a/b"], ["rm", "res1/../a"], ["add-copy", "a/b", "/x", "--location", "rack=r1"],
     ["rm-copy", "a/b", "--location", "rack=r1"], ["show", ".."]],
)  # fmt: skip
def test_a_name_with_a_slash_is_no_dataset_name(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAL_URL", "http://127.0.0.1:9")  # nothing listens: the name is refused before asking
    got = CliRunner().invoke(app, args)
    said = " ".join(got.output.split())
    assert got.exit_code == 2 and f"error: {args[1]!r} is not a dataset name" in said, said
    assert "older HAL" not in said and "cannot reach" not in said

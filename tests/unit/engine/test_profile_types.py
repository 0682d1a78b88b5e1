"""F6: a profile key of the wrong TOML type ended in a Python traceback; now a one-line ValueError says which."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hal.cli.main import app
from hal.engine.profile import Profile
from tests.clusters import cluster_toml

KEYS = ["order", "backfill", "backfill_order", "placement", "order_args", "correction", "half_life"]
KEYS += ["topology_reserve", "max_switch_wait", "estimate", "charge_period"]
WRONG = {
    "int": "5",
    "float": "2.5",
    "bool": "true",
    "string": '"x"',
    "array": '["fcfs"]',
    "table": "{ a = 1 }",
    "datetime": "1979-05-27T07:32:00Z",
}
NUMBERS = {"half_life", "max_switch_wait", "charge_period"}


def wrong_values() -> list[tuple[str, str]]:
    """Each key with each TOML type it does not take (a string is right for the text keys)."""
    cases = []
    for key in KEYS:
        for kind, value in WRONG.items():
            right = (
                kind in ("int", "float")
                if key in NUMBERS
                else kind == "table"
                if key == "order_args"
                else kind == "string"
            )
            if not right or (kind == "string" and key not in ("topology_reserve", "estimate")):
                cases.append((key, value))
    return cases


@pytest.mark.parametrize("base", [None, Profile.server_default(False)], ids=["alone", "over-server-default"])
@pytest.mark.parametrize("table", [False, True], ids=["top-level", "scheduler-table"])
@pytest.mark.parametrize(("key", "value"), wrong_values())
def test_every_key_of_every_wrong_type_is_a_value_error(
    key: str, value: str, table: bool, base: Profile | None
) -> None:
    text = ("[scheduler]\n" if table else "") + f"{key} = {value}\n"
    if key == "topology_reserve":
        text += 'placement = "topology"\n'
    with pytest.raises(ValueError, match=key.replace("_", "[_ ]") if key != "order_args" else "order_args"):
        Profile.from_toml(text, base)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('order = "multifactor"\norder_args = 5\n', "order_args must be a table"),
        ('order = ["fcfs"]\n', "order must be a text, one of ["),
        ('correction = ["reqtime"]\n', "correction must be a text"),
        ("estimate = []\n", "estimate must be a text"),
        ("scheduler = 5\n", "scheduler must be a table"),
        ('order = "multifactor"\n[order_args]\nfavor_small = { a = 1 }\n', "favor_small must be true or false"),
    ],
)
def test_the_messages(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        Profile.from_toml(text)


@pytest.mark.parametrize(
    "text", ['order = "multifactor"\norder_args = 5\n', 'order = ["fcfs"]\n', "[scheduler]\nbackfill = 1.5\n"]
)
def test_simulate_and_server_refuse_it_in_one_line(tmp_path: Path, text: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(text, encoding="utf-8")
    trace = tmp_path / "t.swf"
    trace.write_text("1 0 10 100 4 -1 -1 4 200 -1 1 3 1 -1 1 -1 -1 -1\n", encoding="utf-8")
    cluster = tmp_path / "c.toml"
    cluster.write_text(cluster_toml(name="c", nodes=2, cpus=4), encoding="utf-8")
    for args in (
        ["simulate", str(trace), "--profile", str(profile)],
        ["server", "--cluster", str(cluster), "--profile", str(profile), "--home", str(tmp_path / "home")],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and ("order" in errors[0] or "backfill" in errors[0]), result.output
        assert not (tmp_path / "home" / "hal.db").exists()  # refused before anything was created

"""`hal token create`: a bearer token for a user, written straight into the database (like sacctmgr run
by the site admin); only its digest is stored, so this is the one time it is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hal.cli.common import fail
from hal.cli.live import JsonOpt, emit_json

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="who the token identifies")],
    admin: Annotated[bool, typer.Option("--admin", help="may see and cancel every user's jobs")] = False,
    home: Annotated[Path | None, typer.Option(help="state folder; default $HAL_HOME or ~/.hal")] = None,
    database: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default SQLite in the state folder")] = None,
    label: Annotated[str, typer.Option(help="a note kept with the token")] = "",
    json_out: bool = JsonOpt,
) -> None:
    """Create a token and print it once."""
    from hal.api.server import hal_home
    from hal.controller.auth import create_token
    from hal.controller.store import Store, sqlite_url

    url = database or sqlite_url((home or hal_home()) / "hal.db")
    try:
        store = Store(url)
        token = create_token(store, user, admin, label)
        store.close()
    except ValueError as exc:
        raise fail(str(exc)) from None
    if json_out:
        emit_json({"user": user, "admin": admin, "token": token})
    else:
        typer.echo(token)

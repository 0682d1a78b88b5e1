"""`hal token create/list/revoke`: bearer tokens, written straight into the database (like sacctmgr run by the
site admin); only a token's digest is stored, so creation is the one time it is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hal.cli.common import database_reason, fail, out
from hal.cli.live import JsonOpt, emit_json

DATABASE_HELP = "SQLAlchemy URL; default the one in the state folder's server.json, else its hal.db"
app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="who the token identifies")],
    admin: Annotated[bool, typer.Option("--admin", help="may see and cancel every user's jobs")] = False,
    home: Annotated[Path | None, typer.Option(help="state folder; default $HAL_HOME or ~/.hal")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
    label: Annotated[str, typer.Option(help="a note kept with the token")] = "",
    json_out: bool = JsonOpt,
) -> None:
    """Create a token and print it once."""
    from hal.controller.auth import create_token

    try:
        store = _store(home, database)
        token = create_token(store, user, admin, label)
        store.close()
    except ValueError as exc:
        raise fail(str(exc)) from None
    if json_out:
        emit_json({"user": user, "admin": admin, "token": token})
    else:
        typer.echo(token)


def _store(home: Path | None, database: str | None) -> Any:
    """The server's database: --database, else the one its server.json names, else hal.db in the state folder (a
    server on PostgreSQL was ignored: tokens went to a new, stray hal.db). A missing folder is said (it was a
    traceback of os.open)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from hal.controller.store import Store, sqlite_url
    from hal.home import hal_home

    if database is None:
        folder = home or hal_home()
        if not folder.is_dir():
            raise fail(f"no server state in {folder}: start `hal server` there first, or give --home or --database")
        database = _server_database(folder / "server.json") or sqlite_url(folder / "hal.db")
    try:
        return Store(database)
    except SQLAlchemyError as exc:  # the server's PostgreSQL down or refusing: one line, not a traceback
        url = make_url(database)
        shown, secret = url.render_as_string(hide_password=True), str(url.password or "")
        raise fail(f"cannot use the database {shown}: {database_reason(exc, secret)}") from None


def _server_database(path: Path) -> str | None:
    """The database URL the server that wrote ``path`` (hal server's server.json) runs on, if it wrote one."""
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")).get("database")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        raise fail(f"cannot read which database the server uses from {path} ({exc}); give --database") from None
    return recorded if isinstance(recorded, str) and recorded else None


@app.command("list")
def list_cmd(
    home: Annotated[Path | None, typer.Option(help="state folder; default $HAL_HOME or ~/.hal")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
    json_out: bool = JsonOpt,
) -> None:
    """Every token: its id (the start of its digest), user, admin flag, creation time and label."""
    from hal.cli.live import stamp

    store = _store(home, database)
    rows = [{**r, "id": str(r["digest"])[:12]} for r in store.list_tokens()]
    store.close()
    if json_out:
        emit_json({"tokens": [{k: v for k, v in r.items() if k != "digest"} for r in rows]})
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("ID", "USER", "ADMIN", "CREATED", "LABEL"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["user"], "yes" if r["admin"] else "no", stamp(r["created"]), r["label"] or "")
    out.print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[str | None, typer.Argument(help="a token id from hal token list")] = None,
    user: Annotated[str | None, typer.Option("--user", help="every token of this user")] = None,
    home: Annotated[Path | None, typer.Option(help="state folder; default $HAL_HOME or ~/.hal")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Remove tokens (one by id, or all of a user's); a running server stops accepting them within 30 s."""
    if (token_id is None) == (user is None):
        raise fail("give a token id (hal token list) or --user USER")
    store = _store(home, database)
    rows = store.list_tokens()
    picked = [str(r["digest"]) for r in rows if (user is not None and r["user"] == user)
              or (token_id is not None and len(token_id) >= 6 and str(r["digest"]).startswith(token_id))]  # fmt: skip
    if token_id is not None and len(picked) > 1:
        store.close()
        raise fail(f"token id {token_id!r} matches {len(picked)} tokens; give more of it")
    if not picked:
        store.close()
        raise fail(f"no token matches {token_id or 'user ' + str(user)!r}")
    removed = store.remove_tokens(picked)
    store.close()
    out.print(f"revoked {removed} token(s)")

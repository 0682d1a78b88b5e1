"""`hal dataset`: the data plane's catalog (list; add and rm, for admins) on a running server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hal.cli.common import err, out
from hal.cli.live import JsonOpt, client, emit_json

app = typer.Typer(help="Datasets in the data plane's catalog (--input-data names them).", no_args_is_help=True)


@app.command("list")
def list_cmd(json_out: bool = JsonOpt) -> None:
    """Every dataset with its size, checksum and where its replicas are."""
    with client() as c:
        rows = c.datasets()
    if json_out:
        emit_json({"datasets": rows})
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("NAME", "SIZE", "CHECKSUM", "OWNER", "REPLICAS", "URI"):
        table.add_column(col, justify="right" if col == "SIZE" else "left")
    for d in rows:
        owner = d.get("owner") or "(admin)"
        table.add_row(d["name"], f"{d['size']:,}", d["checksum"][:19], owner, ",".join(d["replicas"]), d["uri"])
    out.print(table)


@app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="the dataset's name (what --input-data=NAME asks for)")],
    uri: Annotated[str, typer.Argument(help="where it is: a path or any fsspec URL the server can read")],
    location: Annotated[str, typer.Option(help="the replica's catalog location")] = "origin",
    json_out: bool = JsonOpt,
) -> None:
    """Register an existing file as a dataset (admins): the server reads it once for its size and checksum."""
    with client() as c:
        got = c.add_dataset(name, uri, location)
    if json_out:
        emit_json(got)
        return
    out.print(f"dataset {got['name']}: {got['size']:,} bytes, {got['checksum']}", highlight=False)
    if got.get("warning"):
        err.print(f"[yellow]warning:[/] {got['warning']}")


@app.command("rm")
def rm_cmd(name: Annotated[str, typer.Argument(help="the dataset to forget")], json_out: bool = JsonOpt) -> None:
    """Forget a dataset and delete its cached copies (admins), e.g. to register a changed file again; refused
    while a queued or running job reads it."""
    with client() as c:
        got = c.remove_dataset(name)
    if json_out:
        emit_json(got)
        return
    out.print(f"dataset {name} removed")

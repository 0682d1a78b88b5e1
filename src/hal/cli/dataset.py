"""`hal dataset`: the data plane's catalog (list, show; add, rm and their copies, for admins) on a running server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hal.cli.common import err, fail, out
from hal.cli.live import JsonOpt, client, emit_json

app = typer.Typer(help="Datasets in the data plane's catalog (--input-data names them).", no_args_is_help=True)


def named(name: str) -> str:
    """``name`` if it can name a dataset: one with a '/' cannot (a file name in the node caches), and the server,
    finding no route for it, was read as an older HAL (QA: "does not offer GET /v1/datasets/a%2Fb")."""
    if "/" in name or name in ("", ".", ".."):
        raise fail(f"{name!r} is not a dataset name")
    return name


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
    uri: Annotated[str, typer.Argument(help="the file or folder: a path or any fsspec URL the server can read")],
    location: Annotated[str, typer.Option(help="the replica's catalog location")] = "origin",
    json_out: bool = JsonOpt,
) -> None:
    """Register an existing file or folder as a dataset (admins): the server reads it once for its size and
    checksum (a folder's: the bytes of its files and a sha256-tree digest)."""
    with client() as c:
        try:
            got = c.add_dataset(name, uri, location)
        except KeyboardInterrupt:  # the server's read goes on without us: it registers the dataset later (QA)
            raise fail(
                f"interrupted: the server may still be reading {uri} and then register dataset {name}; "
                f"`hal dataset show {name}` tells, `hal dataset rm {name}` removes it",
                code=130,
            ) from None
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
    named(name)
    with client() as c:
        got = c.remove_dataset(name)
    if json_out:
        emit_json(got)
        return
    out.print(f"dataset {name} removed")


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="the dataset")], json_out: bool = JsonOpt) -> None:
    """One dataset: its size and checksum, every copy (origin, storage, node caches) and the jobs that use it."""
    named(name)
    with client() as c:
        got = c.dataset(name)
    if json_out:
        emit_json(got)
        return
    out.print(f"Dataset={got['name']} Size={got['size']:,} Checksum={got['checksum']}", highlight=False)
    out.print(f"   Owner={got.get('owner') or '(admin)'} Uri={got['uri']}", highlight=False)
    readers = ",".join(str(j) for j in got["readers"]) or "(none)"
    writers = ",".join(str(j) for j in got["writers"]) or "(none)"
    others = f" OtherUsersJobs={got['others']}" if got.get("others") else ""  # their ids are theirs to see
    out.print(f"   ReadBy={readers} WrittenBy={writers}{others}", highlight=False)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("LOCATION", "KIND", "URI"):
        table.add_column(col)
    for r in got["replicas"]:
        table.add_row(r["location"], r["kind"], r["uri"])
    out.print(table)


@app.command("add-copy")
def add_copy_cmd(
    name: Annotated[str, typer.Argument(help="a dataset in the catalog")],
    uri: Annotated[str, typer.Argument(help="where the copy is: a path or any fsspec URL the server can read")],
    location: Annotated[str, typer.Option(help="its catalog location: rack=r1, site=cloud, ...")],
    json_out: bool = JsonOpt,
) -> None:
    """Register a copy of a dataset kept elsewhere, e.g. a mirror in rack or site storage (admins): the server
    reads it once and takes it only if it is the dataset byte for byte; stage-ins then read the nearest copy."""
    named(name)
    with client() as c:
        got = c.add_replica(name, uri, location)
    if json_out:
        emit_json(got)
        return
    out.print(f"dataset {name}: copy at {got['location']} ({got['uri']})", highlight=False)


@app.command("rm-copy")
def rm_copy_cmd(
    name: Annotated[str, typer.Argument(help="a dataset in the catalog")],
    location: Annotated[str, typer.Option(help="the copy's catalog location")],
    json_out: bool = JsonOpt,
) -> None:
    """Forget a registered copy (admins; its file stays where it is). The last stored copy goes only with the
    dataset (hal dataset rm)."""
    named(name)
    with client() as c:
        got = c.remove_replica(name, location)
    if json_out:
        emit_json(got)
        return
    out.print(f"dataset {got['name']}: copy at {got['removed']} forgotten", highlight=False)  # what the server did


@app.command("rm-kept")
def rm_kept_cmd(
    job: Annotated[str, typer.Argument(help="an ended job (or array) whose stage-out failed")],
    json_out: bool = JsonOpt,
) -> None:
    """Remove a job's failed outputs kept in node caches now, not when keep_failed_outputs ends (the job's user
    or admins): copy them off first (hal show JOB says where they are); jobs waiting for the room go on."""
    with client() as c:
        got = c.remove_kept(job)
    if json_out:
        emit_json(got)
        return
    for jid, where in got["removed"].items():
        out.print(f"job {jid}: removed {', '.join(where)}", markup=False, highlight=False)
    for jid, why in got["not_removed"].items():
        err.print(f"job {jid}: {why}", markup=False, highlight=False)

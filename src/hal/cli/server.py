"""`hal server`: run the live controller and its REST API (loopback only unless TLS or an explicit flag)."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from hal.cli.common import database_reason, fail

DEFAULT_PORT = 6820  # slurmrestd's customary port; hal.api.server.DEFAULT_PORT
# A profile tuned (in the simulator) on predictions a live server cannot make: why it plans with another.
WHY_NOT_LIVE = {"actual": " (actual runtimes are unknown to a live server: only a simulator knows them)"}


def server(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="address to listen on; non-loopback needs TLS or --allow-insecure-remote")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port; 0 picks a free one (written to HAL_HOME/server.json)")
    ] = DEFAULT_PORT,
    home: Annotated[
        Path | None, typer.Option(help="state folder (database, tokens, spool); default $HAL_HOME or ~/.hal")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL, e.g. postgresql://127.0.0.1:5432/hal; default SQLite in HOME")
    ] = None,
    cluster: Annotated[
        Path | None,
        typer.Option(help="cluster TOML (nodes, partitions, topology, cpusets); default: this machine as one node"),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option(help="scheduling profile TOML; default multifactor with EASY backfill")
    ] = None,
    estimate: Annotated[
        str,
        typer.Option(help="runtime predictor: user, last2, gbm or gbm-regress (learned from this site's accounting)"),
    ] = "user",
    model: Annotated[
        Path | None,
        typer.Option(
            help="gbm/gbm-regress: model file to start from and save to at shutdown; default HOME/runtime-model.zip "
            "(gbm-regress: HOME/runtime-model-gbm-regress.zip)"
        ),
    ] = None,
    executor: Annotated[str, typer.Option(help="local (real processes under supervisors) or dev")] = "local",
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
    allow_insecure_remote: Annotated[bool, typer.Option(help="listen on a non-loopback address without TLS")] = False,
    grace: Annotated[float, typer.Option(help="seconds between SIGTERM and SIGKILL when cancelling")] = 10.0,
) -> None:
    """Start the controller: schedules with the engine, runs jobs, serves the API until interrupted."""
    from sqlalchemy.exc import SQLAlchemyError

    from hal.api.server import BindRefused, ServerOptions, check_bind, serve  # heavy: only when serving
    from hal.controller.learning import MODEL_FILES, PREDICTORS
    from hal.controller.machine import Machine
    from hal.data.catalog import Catalog
    from hal.data.live_config import check_cluster_data, data_table
    from hal.engine.profile import Profile

    opts = ServerOptions(
        host,
        port,
        home,
        database,
        cluster,
        profile,
        estimate,
        executor,
        tls_cert,
        tls_key,
        allow_insecure_remote,
        grace,
        model,
    )
    try:
        check_bind(opts)
    except BindRefused as exc:
        raise fail(str(exc)) from None
    if estimate not in PREDICTORS:  # before anything is created in --home
        raise fail(f"unknown runtime predictor {estimate!r}; choose one of {', '.join(PREDICTORS)}")
    try:  # the cluster file and the profile, before anything is created in --home
        machine = Machine.load(cluster)
        tree = machine.cluster.topology is not None
        tuned = Profile.read(profile, tree, base=Profile.server_default(tree)).estimate if profile is not None else ""
        table = data_table(cluster)
        if table is not None:  # it stopped a first start after hal.db and the token were made (QA)
            check_cluster_data(machine.cluster, table, here=True)
            Catalog.check_folder(table.get("catalog"))
    except ValueError as exc:  # ClusterFileError is one
        raise fail(str(exc)) from None
    if tuned and tuned != estimate:  # the predictions the profile's weights were tuned on
        source = ctx.get_parameter_source("estimate")
        if (source is None or source.name != "COMMANDLINE") and tuned in PREDICTORS:
            estimate = tuned
            opts.predictor = tuned
        if estimate != tuned:
            why = WHY_NOT_LIVE.get(tuned, "")
            print(f"note: the profile was tuned on {tuned} predictions{why}; planning with {estimate}", file=sys.stderr)
    if model is not None and estimate not in MODEL_FILES:
        raise fail("--model needs --estimate gbm or gbm-regress")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        serve(opts)
    except OSError as exc:
        raise fail(f"cannot start the server: {exc}") from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:  # no such database, no server there, bad credentials: one line, not a traceback
        shown, secret = shown_database(database, home)
        raise fail(f"cannot use the database {shown}: {database_reason(exc, secret)}") from None
    except ModuleNotFoundError as exc:
        shown = shown_database(database, home)[0]
        raise fail(f"cannot use the database {shown}: no driver for it ({exc.name} is not installed)") from None


def shown_database(database: str | None, home: Path | None) -> tuple[str, str]:
    """The database as an error names it, and its password (to keep out of the reason too): the default SQLite file
    in HAL_HOME rather than 'None', and a URL with its password as *** (QA: both were printed as given)."""
    from sqlalchemy.engine import make_url

    from hal.home import hal_home

    if database is None:
        return str((home or hal_home()) / "hal.db"), ""
    try:
        url = make_url(database)
    except Exception:  # unparsable: any user:password@ in it still hidden
        return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", database), ""
    return url.render_as_string(hide_password=True), str(url.password or "")

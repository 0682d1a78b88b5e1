"""The `hal` command: one Typer app; each command family lives in its own module."""

from __future__ import annotations

import typer

from hal.cli import (
    cancel,
    compare,
    demo,
    history,
    htc,
    nodes,
    queue,
    run,
    server,
    show,
    simulate,
    submit,
    token,
    tools,
    wait,
)

app = typer.Typer(
    name="hal",
    help="HAL, the Hybrid Adaptive Learning Scheduler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate.simulate)
app.command("compare")(compare.compare)
app.command("demo")(demo.demo)
app.command("predict-eval")(__import__("hal.cli.predict", fromlist=["predict_eval"]).predict_eval)
app.command("tune")(__import__("hal.cli.tune", fromlist=["tune"]).tune)
app.add_typer(tools.cluster_app, name="cluster")
app.add_typer(tools.trace_app, name="trace")
app.command("server")(server.server)
app.command("submit")(submit.submit)
app.command("queue")(queue.queue)
app.command("nodes")(nodes.nodes)
app.command("cancel")(cancel.cancel)
app.command("show")(show.show)
app.command("history")(history.history)
app.command("wait")(wait.wait)
app.command("run", context_settings=run.CONTEXT)(run.run)
app.add_typer(token.app, name="token")
app.command("sessions")(htc.sessions)
app.add_typer(htc.app_cmd, name="app")
app.command("session-manager")(htc.session_manager)
app.command("explain")(__import__("hal.cli.explain", fromlist=["explain"]).explain)

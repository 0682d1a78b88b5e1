"""Starting `hal server`: where state lives, which address may be bound, and wiring store, machine,
executor, controller and API together; the first start creates an admin token for the local user."""

from __future__ import annotations

import atexit
import gc
import getpass
import ipaddress
import json
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from hal.api.app import create_app
from hal.api.http_guard import GuardedHttp
from hal.api.metrics import Metrics
from hal.controller.alive import ALIVE_FILE, Heartbeat
from hal.controller.auth import Authenticator, create_token
from hal.controller.auth import write_private as write_token
from hal.controller.core import Controller
from hal.controller.db_lock import LockWatch, lock_database
from hal.controller.job_tokens import JobTokens, load_key
from hal.controller.learning import LivePredictor, caught_up, model_path, open_predictor, relearn, save_predictor
from hal.controller.machine import Machine
from hal.controller.private import open_private, tighten, write_private
from hal.controller.recovery import recover
from hal.controller.startboard import STATE_FILE
from hal.controller.store import Store, sqlite_url
from hal.data.live_config import data_table, enable
from hal.data.outputs import abandon_data_jobs
from hal.engine.profile import Profile
from hal.executors.api import Executor
from hal.home import hal_home
from hal.htc import bridge as hal_htc_bridge

log = logging.getLogger("hal.server")
DEFAULT_PORT = 6820  # slurmrestd's customary port


@dataclass(slots=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    home: Path | None = None
    database: str | None = None
    cluster: Path | None = None
    profile: Path | None = None
    predictor: str = "user"
    executor: str = "local"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure_remote: bool = False
    grace: float = 10.0
    model: Path | None = None  # gbm/gbm-regress model file; default HAL_HOME/runtime-model[-gbm-regress].zip


class BindRefused(ValueError):
    """A non-loopback address without TLS or the explicit flag, or a port no socket can have."""


def check_bind(opts: ServerOptions) -> None:
    if not 0 <= opts.port <= 65535:  # bind() raised OverflowError: a traceback, not a one-line error (QA)
        raise BindRefused(f"--port {opts.port}: a TCP port is 0 to 65535 (0 picks a free one)")
    host = opts.host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback or opts.allow_insecure_remote or (opts.tls_cert and opts.tls_key):
        return
    raise BindRefused(
        f"refusing to listen on {host}: tokens would cross the network in clear text. "
        "Use --tls-cert and --tls-key, or --allow-insecure-remote if the network is trusted."
    )


def make_executor(kind: str, home: Path, grace: float = 10.0) -> Executor:
    if kind == "dev":
        from hal.controller.devrunner import DevRunner

        return DevRunner()
    from hal.executors.local import LocalExecutor  # type: ignore[import-not-found,unused-ignore]

    executor: Executor = LocalExecutor(home / "spool", kill_wait=grace)
    return executor


def bootstrap_token(store: Store, home: Path) -> Path:
    """The first start makes the local user an admin and leaves the token where the CLI looks for it."""
    path = home / "token"
    if not store.has_admin():
        write_token(path, create_token(store, getpass.getuser(), admin=True, label="bootstrap") + "\n")
    elif not path.exists():  # QA: a new home on a database another home made said only "not authorized"
        log.warning(
            "no token in %s: this database's administrators were made by another home; copy its token file here, "
            "or make one: hal token create --user %s --admin --home %s",
            home, getpass.getuser(), home,
        )  # fmt: skip
    return path


def learner(opts: ServerOptions, home: Path, store: Store) -> LivePredictor:
    """The runtime predictor, caught up with the accounting records before any job is planned."""
    live = open_predictor(opts.predictor, opts.model, home)
    if opts.predictor == "user":
        log.info("runtime predictor: the requested times (user estimates)")
        return live
    if live.warning:
        log.warning("%s", live.warning)
    count = relearn(live.predictor, store)
    state = caught_up(live.predictor)
    log.info(
        "runtime predictor %s from %s relearned from %d ended runs (%s)", opts.predictor, live.source, count, state
    )
    return live


RESUME_OUTPUTS_S = 7 * 86400.0  # outputs of jobs that completed this recently are staged out if never settled


def build(opts: ServerOptions) -> tuple[Controller, Any, Store, Executor]:
    home = opts.home or hal_home()
    home.mkdir(parents=True, exist_ok=True)
    if loose := tighten(home):
        log.info("state files made readable by their owner only (they were open to others): %s", ", ".join(loose))
    store = Store(opts.database or sqlite_url(home / "hal.db"))
    bootstrap_token(store, home)
    machine = Machine.load(opts.cluster)
    has_tree = machine.cluster.topology is not None
    profile = Profile.server_default(has_tree)  # a profile file changes only the keys it sets
    if opts.profile:
        profile = Profile.read(opts.profile, has_tree, base=profile)
    log.info(
        "profile%s: order %s, backfill %s (%s), placement %s%s%s", f" {opts.profile}" if opts.profile else " (default)",
        profile.order, profile.backfill, profile.backfill_order, profile.placement,
        f" (topology_reserve {profile.topology_reserve})" if profile.topology_reserve else "",
        f", tuned on {profile.estimate} predictions" if profile.estimate else "",
    )  # fmt: skip
    if profile.billing_weights:
        log.info("fair share bills %s per second of what a job holds", profile.billing_weights)
    executor = make_executor(opts.executor, home, opts.grace)
    ctl = Controller(store, machine, executor, profile, learner(opts, home, store).predictor, grace=opts.grace)
    metrics = Metrics(ctl)
    ctl.observer = metrics
    jobs_tokens = JobTokens(load_key(home), store)  # `hal` inside a job acts as its user
    ctl.job_env = lambda job, attempt: jobs_tokens.env(job, attempt, home.absolute())
    known = ctl.board.load(home / STATE_FILE)
    ctl.board.keep(home / STATE_FILE)  # saved every minute while it learns: a kill -9 loses at most that
    log.info("start forecasts: %d recorded prediction errors", known)
    table = data_table(opts.cluster)
    # The data plane before the records: a job that ended while the server was down goes through STAGE_OUT (its
    # dependents waited for nothing, and it was COMPLETED, then FAILED, when its stage-out settled later).
    staging = enable(ctl, table) if table is not None else None  # [data]: topology/data-aware placement, staging
    ctl.down_since = Heartbeat(home / ALIVE_FILE).last()  # when the previous controller stopped
    recover(ctl)
    if staging is not None:
        log.info("data plane resumed %s", staging.resume(ctl, ctl.clock() - RESUME_OUTPUTS_S))
    elif counts := abandon_data_jobs(ctl, "this server has no data plane ([data] in its cluster file)"):
        log.warning("jobs that need a data plane this server lacks: %s", counts)
    htc = hal_htc_bridge.start(ctl, home, metrics)  # HTC sessions beside the controller
    app = create_app(ctl, Authenticator(store, jobs_tokens), metrics, home)
    htc.mount(app)
    return ctl, app, store, executor


def lock_home(home: Path) -> Any:
    """Hold HOME for this server's lifetime: a second controller on the same state launched the same jobs,
    failed them with 'still running here' and overwrote server.json. Released when the process ends."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    handle = open_private(home / "server.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise ValueError(
            f"another HAL server (pid {owner}) already runs on {home}; stop it or give another --home"
        ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


GRACE_SECONDS = 20  # how long a stop waits for requests in flight


class Uvicorn(uvicorn.Server):
    """uvicorn's server, telling ``on_exit`` when a signal asks it to stop: it then waits for the requests in
    flight, and a listing waiting for start forecasts should answer at once (a stop took 28 s while one was
    being made)."""

    def __init__(self, config: uvicorn.Config, on_exit: Any) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        self.on_exit()


def serve(opts: ServerOptions) -> None:
    check_bind(opts)
    home = opts.home or hal_home()
    held = lock_home(home)  # open until the server has stopped
    # and its database: a second server on it ran the first one's jobs again; refused before anything is recovered
    owned = lock_database(opts.database or sqlite_url(home / "hal.db"), home)
    early = threading.Event()  # a SIGTERM during start-up: remembered, and the server stops as soon as it runs
    signal.signal(signal.SIGTERM, lambda _sig, _frame: early.set())
    sock = socket.socket(socket.AF_INET6 if ":" in opts.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets; else Nagle
    # and delayed ACKs cost ~40 ms per request (asyncio sets it only on sockets it creates itself)
    try:
        sock.bind((opts.host, opts.port))
        port = sock.getsockname()[1]
        ctl, app, store, executor = build(opts)
    except BaseException:
        owned.close()  # a caller in this process may start again (a PostgreSQL lock lives as long as its session)
        raise
    scheme = "https" if opts.tls_cert else "http"
    host = f"[{opts.host}]" if ":" in opts.host else opts.host
    url = f"{scheme}://{host}:{port}"
    info = {"url": url, "pid": os.getpid(), "database": store.url, "cluster": ctl.machine.source}
    write_private(home / "server.json", json.dumps(info) + "\n")  # the database URL may hold a password
    ctl.start()
    alive = Heartbeat(home / ALIVE_FILE)
    alive.start()
    print(f"hal server listening on {url} (state in {home}, cluster: {ctl.machine.source})", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=str(opts.tls_cert) if opts.tls_cert else None,
        ssl_keyfile=str(opts.tls_key) if opts.tls_key else None,
        timeout_keep_alive=30,
        backlog=4096,
        http=GuardedHttp,  # deadlines for a request's head and body, and a head size bound (uvicorn has none)
        timeout_graceful_shutdown=GRACE_SECONDS,  # then requests still in flight are cut: a stop never hangs
    )
    # uvicorn re-raises the SIGTERM it shut down on once it is done; with the default handler that would end
    # the process before the controller stops and the runtime model is saved, so a SIGTERM only asks it to stop.
    # A no-op here lost a SIGTERM that came before uvicorn took the signal over: the server ran on for good.
    server = Uvicorn(config, on_exit=lambda: ctl.board.stop(wait=0))

    def asked_to_stop(_sig: int, _frame: Any) -> None:
        early.set()
        server.should_exit = True
        ctl.board.stop(wait=0)

    signal.signal(signal.SIGTERM, asked_to_stop)
    watch = LockWatch(owned, lost=lambda: asked_to_stop(0, None))
    watch.start()
    # Never ``should_exit = early.is_set()``: a SIGTERM between the line above and that one was undone by it.
    if early.is_set():
        server.should_exit = True
        ctl.board.stop(wait=0)
    try:
        server.run(sockets=[sock])
    finally:
        watch.stop()
        ctl.board.stop()  # a forecast in flight stops within one cycle of its forward run (JOIN at most)
        ctl.stop()
        alive.stop()
        ctl.board.save(home / STATE_FILE)
        if ctl.staging is not None:  # copies under way stop within a chunk; the next start takes them up
            ctl.staging.shutdown()
        saved = save_predictor(LivePredictor(ctl.sched.predictor, model_path(opts.predictor, opts.model, home)))
        if saved is not None:
            log.info("runtime model saved to %s", saved)
        executor.shutdown()
        store.close()
        owned.close()
        held.close()
        # Everything is saved and closed: what is left is freed with the process. The interpreter's final
        # collections walked those objects (the API's models, the engine's tables) for ~0.3 s of every stop;
        # frozen at exit, not here, so a program that calls serve() and goes on keeps its collector.
        atexit.register(gc.freeze)
    if watch.gone:  # not a clean stop: say why, and exit non-zero
        raise ValueError("stopped: another HAL server took this server's database after its lock session ended")

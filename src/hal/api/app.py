"""The REST routes: who may call what (bearer tokens), and how controller errors become HTTP statuses."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import OperationalError

import hal
from hal.api.bearer_first import IDENTITY, REFUSED, BearerFirst
from hal.api.bodies import ERRORS, SUBMITTED, CancelBody, DrainBody, SignalBody, SubmitBody, TokenBody, UpdateBody
from hal.api.body_limit import BodyLimit
from hal.api.datasets import dataset_router
from hal.api.forecast_state import assumed_runtimes, planned_nodes, unknown_starts, with_forecast_state
from hal.api.internal_errors import InternalErrors
from hal.api.job_logs import MAX_TAIL, LogRefused, read_log
from hal.api.job_lookup import Ref, answer, checked_ref, shared_scripts, visible
from hal.api.metrics import Metrics
from hal.api.task_events import events_of_rows
from hal.api.text_checks import check_column, check_mapping, check_submission, raw_workdir
from hal.api.update_notes import kept_dependencies
from hal.api.views import nodes_view, per_cpu_memory, record, running_ends, summary_view, usage_view, with_attempts
from hal.controller.advice import candidates, min_advice, time_advice
from hal.controller.auth import Authenticator, Identity, check_user, create_token
from hal.controller.column_text import MAX_ACCOUNT, MAX_IDEMPOTENCY_KEY, MAX_TOKEN_LABEL
from hal.controller.contracts import Forbidden, NotFound, SubmitError
from hal.controller.core import Controller
from hal.controller.directives import MAX_SCRIPT_BYTES, ScriptTooLarge, build_request, wrap_script
from hal.controller.drain import drain, resume
from hal.controller.holds import set_hold
from hal.controller.job_ids import MAX_JOB_ID
from hal.controller.placement_record import placement_of
from hal.controller.priority import priorities, shares
from hal.controller.remaining_deps import with_remaining
from hal.controller.request_env import without_secrets
from hal.controller.requeue import requeue
from hal.controller.script_options import FLAGS, VALUED, DirectiveError
from hal.controller.signals import signal_jobs
from hal.controller.testonly import test_only
from hal.controller.update import update
from hal.data.outputs import states_from_events
from hal.engine.plugins.placement_explain import topology_hold
from hal.model.job import JobState

bearer = HTTPBearer(auto_error=False)
FORECASTS = ("pending jobs' forecast starts, p50 and p90 (squeue --start), and forecast_pending: true while a "
             "job's forecast is still being made in the background (ask again in a few seconds)")  # fmt: skip
DUPLICATES = "sacct -D: add each job's earlier attempts (a requeued job's runs) as 'attempts', oldest first"


def _options(raw: dict[str, str | int | bool]) -> tuple[dict[str, str], set[str]]:
    """The options as the command line's, and the flags turned off (``"exclusive": false`` against the script's
    ``#SBATCH --exclusive=topo``, which stayed). A boolean for an option that takes a value is refused: ``"nodes":
    true`` ran on one node and ``"switches": true`` asked for one switch, without a word (QA)."""
    out: dict[str, str] = {}
    off: set[str] = set()
    for key, value in raw.items():
        key = key.replace("_", "-")
        if isinstance(value, bool) and key in VALUED and key not in FLAGS:
            raise DirectiveError(f'option {key!r} takes a value, not {str(value).lower()} (e.g. "{key}": "2")')
        if not isinstance(value, bool) and key in FLAGS - VALUED - {"exclusive"}:  # "hold": 0 held the job (QA)
            raise DirectiveError(f"option {key!r} is a flag: true or false, not {value!r}")
        if value is False:
            off.add(key)
            continue
        out[key] = "1" if value is True else str(value)
    return out, off


def identity(request: Request, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Identity:
    auth: Authenticator = request.app.state.auth
    who: Identity | None = getattr(request.state, IDENTITY, None)  # BearerFirst's, for a request with a body
    if who is None and cred is not None:
        who = auth.identify(cred.credentials)
    if who is None:
        raise HTTPException(401, REFUSED, headers={"WWW-Authenticate": "Bearer"})
    return who


Who = Annotated[Identity, Depends(identity)]
# What GET /v1/jobs?state= filters on: a job's states, CONFIGURING and COMPLETING (a RUNNING job staging its
# inputs, or being stopped, as listings show it) and REQUEUED (an earlier attempt's: hal history -s RQ asks for it).
LISTED_STATES = (*(s.name for s in JobState), "CONFIGURING", "COMPLETING", "REQUEUED")
SHOWN_RUNNING = ("CONFIGURING", "COMPLETING")  # stored RUNNING


def effective_switch_waits(recs: list[dict[str, Any]], cap: float, tree: bool = True) -> list[dict[str, Any]]:
    """Each --switches job's wait as it really is, its @maxwait capped by the profile's max_switch_wait (squeue's
    Wait4Switch), in listings with details as in GET /v1/jobs/ID (QA: only there, and an int or a float); without
    ``tree`` (placement is not "topology") the request is ignored, and marked so for `hal show`."""
    for rec in recs:
        place = rec.get("placement_request") or {}
        if "switches" in place and not tree:
            place["switches_ignored"] = True
        elif "switches" in place:
            asked = place.get("switches_wait")
            place["switches_wait_effective"] = float(cap) if asked is None else min(float(asked), float(cap))
    return recs


def create_app(ctl: Controller, auth: Authenticator, metrics: Metrics, home: Path | None = None) -> FastAPI:
    app = FastAPI(
        title="HAL", version=hal.__version__, description="HAL's live controller: jobs, nodes, queue", responses=ERRORS
    )

    app.state.auth = auth
    app.add_middleware(InternalErrors)  # an unexpected error answers JSON 500, its traceback logged
    app.add_middleware(BearerFirst, auth=auth)  # a body is read only for a caller with a valid token
    app.add_middleware(BodyLimit)  # outermost: a body too large is refused before it is read

    @app.exception_handler(SubmitError)
    @app.exception_handler(DirectiveError)
    def _bad(_: Request, exc: Exception) -> JSONResponse:
        status = 413 if isinstance(exc, ScriptTooLarge) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with where and what, never the value itself: a NaN in the body made the answer a 500."""
        errors = [  # FastAPI's ValidationError schema: loc, msg and type
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(NotFound)
    def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.args[0] if exc.args else "not found"}, status_code=404)

    @app.exception_handler(OperationalError)  # unreachable, locked or full: no fault of the request's (was a 500)
    def _store_down(_: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse({"detail": f"database unavailable, nothing recorded: {exc.orig}"[:300]}, status_code=503)

    @app.exception_handler(Forbidden)
    def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": hal.__version__}

    @app.get("/v1/whoami")
    def whoami(who: Who) -> dict[str, Any]:
        return {"user": who.user, "admin": who.admin}

    @app.post("/v1/jobs", status_code=201, responses=SUBMITTED)
    def submit(
        body: SubmitBody, who: Who, response: Response, idempotency_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        check_submission(body.script, body.wrap, body.options, body.env, body.workdir, body.idempotency_key, body.args)
        workdir = raw_workdir(body.workdir_bytes, home) if body.workdir_bytes else body.workdir
        if body.wrap is not None and body.script:  # the wrap ran and the script was dropped without a word
            raise HTTPException(400, "give a script or wrap, not both (sbatch: a script cannot be used with --wrap)")
        if len(body.script) > MAX_SCRIPT_BYTES:
            raise HTTPException(413, f"the script is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)} MiB limit")
        script = wrap_script(body.wrap) if body.wrap else body.script
        options, off = _options(body.options)
        if body.wrap and not options.get("job-name"):
            options["job-name"] = "wrap"  # sbatch's name for a --wrap job
        req = build_request(script, options, without_secrets(body.env), workdir, ctl.clock(), body.args, off)
        check_column("--account", req.account, MAX_ACCOUNT, controls=True)  # an option's or the script's
        check_column("Idempotency-Key header", idempotency_key, MAX_IDEMPOTENCY_KEY)
        if req.nice < 0 and not who.admin:  # a user could put their jobs ahead of everyone's (Slurm: privileged)
            raise Forbidden(f"--nice={req.nice}: only admins may raise a job's priority (a negative nice)")
        if req.hold and who.admin:  # Slurm: a job an operator or administrator submits held is JobHeldAdmin
            req = dataclasses.replace(req, hold_admin=True)
        if req.test_only:  # sbatch --test-only: checked and forecast, nothing submitted
            response.status_code = 200
            return test_only(ctl, req, who.user)
        key = body.idempotency_key or idempotency_key
        done = ctl.submit(req, who.user, key)
        if done.replayed:
            response.status_code = 200
        return {
            "job_id": done.array_job_id if done.array_job_id is not None else done.job_ids[0],
            "job_ids": done.job_ids,
            "array_job_id": done.array_job_id,
            "replayed": done.replayed,
            "notes": req.notes,  # options accepted but not acted on: the CLI prints them, as sbatch warns
        }

    @app.get("/v1/jobs")
    def list_jobs(
        who: Who,
        state: Annotated[
            str | None, Query(description="comma-separated states, e.g. PENDING,RUNNING (an unknown one: 400)")
        ] = None,
        user: str | None = None,
        all_users: bool = False,
        partition: str | None = None,
        since: Annotated[float | None, Query(allow_inf_nan=False, description="epoch seconds")] = None,
        until: Annotated[float | None, Query(allow_inf_nan=False, description="epoch seconds")] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
        after: Annotated[int | None, Query(ge=0, le=MAX_JOB_ID, description="page on: only larger ids")] = None,
        detail: Annotated[bool, Query(description="add each job's request details, as GET /v1/jobs/ID")] = False,
        start: Annotated[bool, Query(description=FORECASTS)] = False,
        duplicates: Annotated[bool, Query(description=DUPLICATES)] = False,
    ) -> dict[str, Any]:
        check_column("user", user)
        check_column("partition", partition)
        users = [u.strip() for u in user.split(",") if u.strip()] if user is not None else None  # squeue -u a,b
        if users is not None and not all(who.may_see(u) for u in users):
            raise HTTPException(403, "only admins may list other users' jobs")
        owner = users if users is not None else (None if who.admin and all_users else who.user)
        parts = [p.strip() for p in partition.split(",") if p.strip()] if partition else None  # squeue -p a,b
        states = [s.strip().upper() for s in state.split(",") if s.strip()] if state else None
        unknown = [s for s in states or () if s not in LISTED_STATES]
        if unknown:  # a typo listed no job at all, with a 200, while the CLI refuses it (QA)
            raise HTTPException(400, f"unknown job state {unknown[0]!r}; valid states: {', '.join(LISTED_STATES)}")
        stored = sorted({"RUNNING" if s in SHOWN_RUNNING else s for s in states}) if states else None
        rows = ctl.store.query(owner, stored, parts, since, until, limit=limit, after=after)
        more = {"truncated": True, "next_after": max(int(r["id"]) for r in rows)} if len(rows) >= limit else {}
        rows = ctl.annotate(rows, start)
        if states and "RUNNING" not in states and set(SHOWN_RUNNING) & set(states):  # only the RUNNING so shown
            rows = [r for r in rows if r["state"] in states or ("COMPLETING" in states and r.get("completing"))]
        now = ctl.clock()
        rows = planned_nodes(ctl, running_ends(ctl, rows))  # squeue's SCHEDNODES too
        rows = unknown_starts(ctl, rows) if start else rows  # why a forecast gives no start, as GET /v1/jobs/ID
        recs = [with_forecast_state(r, record(r, now, detail)) for r in rows]
        per_cpu_memory(ctl, rows, recs)  # squeue's %m
        with_remaining(ctl, rows, recs, detail)  # squeue's %E
        tree = ctl.book.select is not None  # a --switches job's wait, or that its --switches is ignored
        recs = effective_switch_waits(shared_scripts(ctl, recs), ctl.profile.max_switch_wait, tree) if detail else recs
        if duplicates:
            with_attempts(ctl, rows, recs, now)
        return {"jobs": recs, **more}  # a full page says so, and where the next starts (QA: 10,000 rows, no sign)

    @app.get("/v1/jobs/{ref}")
    def get_job(
        ref: Ref, who: Who, detail: bool = True, start: bool = False,
        duplicates: Annotated[bool, Query(description=DUPLICATES)] = False,
    ) -> dict[str, Any]:  # fmt: skip
        found = visible(ctl, ref, who, start)
        rows = planned_nodes(ctl, assumed_runtimes(ctl, unknown_starts(ctl, found)))  # a 1-hour default, SCHEDNODES
        now = ctl.clock()
        recs = [with_forecast_state(r, record(r, now, detail)) for r in rows]  # start: forecast_pending too
        per_cpu_memory(ctl, rows, recs)
        with_remaining(ctl, rows, recs, detail)
        recs = shared_scripts(ctl, recs) if detail else recs
        for rec in effective_switch_waits(recs, ctl.profile.max_switch_wait, ctl.book.select is not None):
            if rec["state"] == "PENDING" or len(recs) > 1:  # an array's summary: no event reads per task
                continue  # (`hal wait` polls it; arrays have no --output-data, `hal explain` takes one task)
            events = ctl.store.events_of(rec["job_id"])
            rec["placement"] = placement_of(events)  # the score parts recorded at its launch
            if rec.get("output_data") and rec["state"] != "RUNNING":
                live = ctl.staging.outputs.state_of(rec["job_id"]) if ctl.staging and ctl.staging.outputs else {}
                rec["stage_out"] = {**live, **states_from_events(events)}  # settled ones from the records
        if duplicates:
            with_attempts(ctl, rows, recs, now)
        return answer(ref, recs)

    @app.get("/v1/jobs/{ref}/events")
    def job_events(ref: Ref, who: Who) -> dict[str, Any]:
        return {"events": events_of_rows(ctl.store, visible(ctl, ref, who))}  # every task an array names

    @app.delete("/v1/jobs/{ref}")
    def cancel(ref: Ref, who: Who) -> dict[str, Any]:
        return {"cancelled": ctl.cancel(ref, who)}

    @app.post("/v1/jobs/cancel")
    def cancel_many(body: CancelBody, who: Who) -> dict[str, Any]:
        """Several jobs in one request (hal cancel -u/-n/-t sent one per task: 81 s for 4,000 tasks)."""
        done: dict[str, list[int]] = {}
        failed: dict[str, str] = {}
        for ref in body.jobs:  # each on its own: another user's job is reported, the rest still cancelled
            try:
                done[ref] = ctl.cancel(checked_ref(ref), who)
            except HTTPException as exc:  # a task list that names no tasks
                failed[ref] = str(exc.detail)
            except (NotFound, Forbidden, SubmitError) as exc:  # a bad or unknown id: not 'already ended'
                failed[ref] = str(exc.args[0]) if exc.args else str(exc)
        return {"cancelled": done, "failed": failed}

    @app.post("/v1/jobs/{ref}/signal")
    def send_signal(ref: Ref, body: SignalBody, who: Who) -> dict[str, Any]:
        return {"signalled": signal_jobs(ctl, ref, who, body.signal, body.batch, body.full)}

    @app.get("/v1/jobs/{ref}/advice")
    def advice(
        ref: Ref,
        who: Who,
        topology_only: Annotated[bool, Query(description="only what holds it beyond its resources")] = False,
    ) -> dict[str, Any]:
        """For a pending job: would asking for less time (what its earlier runs took) start it sooner?
        ``topology_only``: `hal show`'s Why= wants only the server's words, not the time and placement advice."""
        ids = ctl.resolve(ref)
        row = ctl.store.get(ids[0]) if len(ids) == 1 else None
        if row is None:
            raise NotFound(f"no single job {ref} (advice is per job or array task)")
        if not who.may_see(row["user"]):
            raise Forbidden(f"job {ref} belongs to another user")
        with ctl.lock:  # what holds a job of reason Topology that asked for no topology, named (hal explain's why)
            held = topology_hold(ctl.sched, ids[0])
        if topology_only:
            return {"topology": held}
        return {
            "time": time_advice(ctl, ids[0]),
            "candidates": candidates(ctl, ids[0]),
            "time_min": min_advice(ctl, ids[0]),
            "topology": held,
        }

    @app.post("/v1/jobs/{ref}/requeue")
    def requeue_job(ref: Ref, who: Who) -> dict[str, Any]:
        return {"requeued": requeue(ctl, ref, who)}

    @app.post("/v1/jobs/{ref}/update")
    def update_job(ref: Ref, body: UpdateBody, who: Who) -> dict[str, Any]:
        """scontrol update job: a pending job's request in place (its id and queue place kept); a running job's
        time limit, name, comment and requeue flag."""
        check_mapping("fields", body.fields)
        ids = update(ctl, ref, who, body.fields)
        return {"updated": ids, "notes": kept_dependencies(ctl, ids, body.fields)}

    @app.post("/v1/jobs/{ref}/hold")
    def hold(ref: Ref, who: Who) -> dict[str, Any]:
        return {"held": set_hold(ctl, ref, who, True)}

    @app.post("/v1/jobs/{ref}/release")
    def release(ref: Ref, who: Who) -> dict[str, Any]:
        return {"released": set_hold(ctl, ref, who, False)}

    @app.get("/v1/jobs/{ref}/logs", response_class=PlainTextResponse)
    def logs(ref: Ref, who: Who, stream: str = "stdout", tail: Annotated[int, Query(ge=0, le=MAX_TAIL)] = 0) -> str:
        if stream not in ("stdout", "stderr"):  # anything else read stderr
            raise HTTPException(400, f"unknown stream {stream[:40]!r}: stdout or stderr")
        rows = visible(ctl, ref, who)
        path, started = rows[0][f"{stream}_path"], rows[0].get("start_time")
        if not path or started is None:
            raise HTTPException(409, f"job {ref} has not started; it has no {stream} yet")
        try:
            return read_log(path, tail, started)
        except LogRefused as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/v1/queue/summary")
    def queue_summary(who: Who) -> dict[str, Any]:
        return summary_view(ctl)

    @app.get("/v1/nodes")
    def nodes(who: Who) -> dict[str, Any]:
        return nodes_view(ctl)

    @app.post("/v1/nodes/drain")
    def drain_nodes(body: DrainBody, who: Who) -> dict[str, Any]:
        """Admins: running jobs finish, nothing new starts there, until resumed (kept across restarts)."""
        check_column("reason", body.reason, controls=True)  # hal nodes -R prints it to every user
        return {"drained": drain(ctl, body.nodes, body.reason, who)}

    @app.post("/v1/nodes/resume")
    def resume_nodes(body: DrainBody, who: Who) -> dict[str, Any]:
        return {"resumed": resume(ctl, body.nodes, who)}

    @app.get("/v1/priority")
    def priority(who: Who) -> dict[str, Any]:
        return priorities(ctl, who)

    @app.get("/v1/shares")
    def fair_shares(who: Who) -> dict[str, Any]:
        return shares(ctl, who)

    @app.get("/v1/usage")
    def usage(who: Who) -> dict[str, Any]:
        return usage_view(ctl, None if who.admin else who.user)

    @app.post("/v1/tokens", status_code=201)
    def new_token(body: TokenBody, who: Who) -> dict[str, Any]:
        if not who.admin:
            raise HTTPException(403, "only admins may create tokens")
        try:
            check_user(body.user)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        check_column("label", body.label, MAX_TOKEN_LABEL)
        return {
            "user": body.user,
            "admin": body.admin,
            "token": create_token(ctl.store, body.user, body.admin, body.label),
        }

    app.include_router(dataset_router(ctl, identity, home))

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus(who: Who) -> Response:
        return Response(metrics.render(who.admin), media_type="text/plain; version=0.0.4")

    return app

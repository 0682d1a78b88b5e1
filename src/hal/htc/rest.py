"""REST routes for HTC: list sessions and their counters, list and register applications. Tasks themselves
never go through REST: the SDK streams them over the session manager's socket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field

from hal.api.app import identity
from hal.controller.auth import Identity

if TYPE_CHECKING:
    from hal.htc.bridge import HtcService


class AppBody(BaseModel):
    name: str
    target: str = Field(description="module:callable or cmd:<template with {input}>")
    cpus: int = Field(1, ge=1)
    mem_mb: int = Field(0, ge=0, description="per service instance, MiB; 0: no limit")
    gpus: int = Field(0, ge=0)
    min_instances: int = Field(0, ge=0)
    max_instances: int = Field(64, ge=1)
    max_retries: int = Field(3, ge=0)
    task_timeout: float | None = Field(None, gt=0, description="seconds a task may run, then retried; none: no limit")
    policy: str = "proportional"
    env: dict[str, str] = Field(default_factory=dict)


Who = Annotated[Identity, Depends(identity)]  # module level: FastAPI resolves string annotations here


def add_routes(app: FastAPI, service: HtcService) -> None:
    def _call(fn: Any, refused: int = 400) -> Any:
        try:
            return fn()
        except (OSError, EOFError) as exc:
            raise HTTPException(503, f"the session manager is not answering: {exc}") from None
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise HTTPException(refused, str(exc)) from None

    @app.get("/v1/htc")
    def where(who: Who) -> dict[str, Any]:
        """Where the SDK connects to stream tasks (a Unix socket on the server's machine), and the ticket that says
        there who the caller is (hal/htc/tickets.py)."""
        return {"address": service.address, "user": who.user, "admin": who.admin,
                "ticket": service.ticket(who.user, who.admin)}  # fmt: skip

    @app.get("/v1/sessions")
    def sessions(who: Who, all: bool = False) -> dict[str, Any]:
        rows = _call(lambda: service.client().sessions())
        rows = [r for r in rows if who.may_see(r["user"]) and (all or r["state"] in ("open", "detached"))]
        return {"sessions": rows}

    @app.get("/v1/apps")
    def apps(who: Who) -> dict[str, Any]:
        """An application's env may hold credentials: only admins see its values (as datasets' URIs)."""
        rows = [a.to_dict() for a in _call(lambda: service.client().apps())]
        if not who.admin:
            rows = [{**r, "env": dict.fromkeys(r.get("env") or {}, "***")} for r in rows]
        return {"apps": rows}

    @app.post("/v1/apps", status_code=201)
    def register(body: AppBody, who: Who) -> dict[str, Any]:
        if not who.admin:
            raise HTTPException(403, "only admins may register applications")
        from hal.htc.app import Application

        spec = _call(lambda: Application(**body.model_dump()), 422)  # a definition that cannot be served: 422
        warning = _call(lambda: service.client().register(spec), 422)  # e.g. an instance bigger than any node
        return {**spec.to_dict(), "warning": warning}

"""The JSON bodies the REST routes take: their fields, limits and descriptions (the OpenAPI schema's)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hal.api.text_checks import RAW_WORKDIR


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field ("option") submitted with every default

    script: str = Field("", description="the batch script; #SBATCH and #HAL lines are read as options")
    wrap: str | None = Field(None, description="a command to run instead of a script, as sbatch --wrap")
    options: dict[str, str | int | bool] = Field(default_factory=dict, description="long option names, e.g. time")
    env: dict[str, str] = Field(default_factory=dict, description="environment the job runs with (--export)")
    workdir: str = Field("/", description="absolute working directory (--chdir)")
    workdir_bytes: str | None = Field(None, max_length=16384, description=RAW_WORKDIR)
    idempotency_key: str | None = Field(None, max_length=128)
    args: list[str] = Field(default_factory=list, max_length=4096, description="the script's arguments")


class DrainBody(BaseModel):
    nodes: str = Field(description="a Slurm host list, e.g. vn[001-002]")
    reason: str = Field("", max_length=1024)


class CancelBody(BaseModel):
    jobs: list[str] = Field(max_length=100_000, description="job ids: 12, an array 12, one task 12_3, tasks 12_[1-3]")


class SignalBody(BaseModel):
    signal: str = Field(max_length=16, description="a signal name (USR1, SIGTERM) or number")
    batch: bool = Field(False, description="scancel -b: the batch shell and what it started")
    full: bool = Field(False, description="scancel -f: every process of the job")


class UpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(
        max_length=32, description="scontrol update's FIELD=VALUE pairs, e.g. {'TimeLimit': '1:00', 'Nice': '10'}"
    )


class TokenBody(BaseModel):
    user: str
    admin: bool = False
    label: str = ""


class Detail(BaseModel):
    """Every refusal's body: what was wrong, in words a user can act on."""

    detail: str


ERRORS: dict[int | str, dict[str, object]] = {  # every route may answer these (the OpenAPI schema said none)
    400: {"model": Detail, "description": "refused: the request cannot be run as asked (detail says why)"},
    401: {"model": Detail, "description": "no token, or one that is not valid"},
    403: {"model": Detail, "description": "the token's user may not do this (another user's job, admins only)"},
    404: {"model": Detail, "description": "no such job, node, dataset or session"},
    409: {"model": Detail, "description": "not now: a job's logs before it starts, a dataset in use, no data plane"},
    413: {"model": Detail, "description": "too large: a body over 64 MiB (refused unread), a script over 4 MiB"},
    500: {"model": Detail, "description": "an internal error; its traceback is in the server's log"},
    503: {"model": Detail, "description": "the database is unavailable; nothing was recorded, retry"},
}
SUBMITTED: dict[int | str, dict[str, object]] = {
    200: {"description": "an earlier submission with the same idempotency key (replayed), or --test-only's answer"},
}

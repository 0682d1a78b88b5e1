"""HAL's Python SDK: submit, get, list, cancel, wait and logs over the REST API.

The server address and token come from the arguments, else HAL_URL / HAL_TOKEN, else the files a local
`hal server` leaves in HAL_HOME (~/.hal): server.json and token.
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hal.utf8 import is_text

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"}


SUBMIT_RETRY = 120.0  # s a submission whose answer was lost is retried (same idempotency key) while it restarts
RESTART_WAIT = 600.0  # s a waiter keeps trying to reach a controller that went away (a restart, an upgrade)


def with_umask(env: dict[str, str]) -> dict[str, str]:
    """``env`` with SLURM_UMASK, as sbatch sends it unless set: the job and its output files get the submitter's
    umask, not the server's (`hal submit` and the SDK alike)."""
    if "SLURM_UMASK" not in env:
        env["SLURM_UMASK"] = f"{_umask():04o}"
    return env


def _umask() -> int:
    """This process's umask, read from /proc where it can be: os.umask can only read it by setting another, and a
    thread of an SDK caller creating a file meanwhile would get that one."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # the strictest meanwhile
    os.umask(mask)
    return mask


def _check_json_text(data: Any, where: str = "") -> None:
    """A ValueError naming the first string that is not UTF-8 (undecodable bytes, lone surrogates): httpx's JSON
    encoder failed on it with a UnicodeEncodeError traceback."""
    if isinstance(data, str):
        if not is_text(data):
            shown = data.encode("utf-8", "backslashreplace").decode("utf-8")
            raise ValueError(f"{where or 'a value'} is not valid UTF-8 text: {shown[:80]}")
    elif isinstance(data, dict):
        for key, value in data.items():
            _check_json_text(key, f"a name in {where or 'the request'}")
            _check_json_text(value, f"{where}.{key}".strip(".") if where else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _check_json_text(value, f"{where}[{i}]")


class HalError(RuntimeError):
    """The server refused a request; ``status`` is the HTTP status and the message is the server's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.sent = False  # status 0: True when the request may have reached the server before the link failed


def _home() -> Path:
    return Path(os.environ.get("HAL_HOME") or Path.home() / ".hal")


def default_url() -> str:
    if os.environ.get("HAL_URL"):
        return os.environ["HAL_URL"]
    info = _home() / "server.json"
    if info.exists():
        return str(json.loads(info.read_text(encoding="utf-8"))["url"])
    return "http://127.0.0.1:6820"


def default_token() -> str | None:
    if os.environ.get("HAL_TOKEN"):
        return os.environ["HAL_TOKEN"]
    path = _home() / "token"
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


class Client:
    """A connection to one HAL server, reusing one HTTP connection pool."""

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 30.0, workdir: str | None = None
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        self._found = url is None  # found through HAL_URL/server.json: a restarted server may be elsewhere
        self.workdir = workdir  # default working directory of submitted jobs; None: the caller's cwd
        self.token = token or default_token()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        # plain http needs no CA bundle, and loading one costs tens of ms per client
        verify = self.url.startswith("https")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            try:
                resp = self._http.request(method, path, **kw)
            except httpx.ConnectError:  # nothing was sent: a restarted server may listen elsewhere now (QA: every
                was = self.url  # call but wait() kept the old port for good)
                self._reconnect()
                if self.url == was:
                    raise
                resp = self._http.request(method, path, **kw)
        except httpx.TimeoutException as exc:  # it is there, and busy: not the 'is one running?' case
            error = HalError(0, f"the HAL server at {self.url} did not answer in time ({exc or 'timeout'})")
            error.sent = not isinstance(exc, httpx.ConnectTimeout)
            raise error from None
        except httpx.TransportError as exc:
            error = HalError(
                0,
                f"cannot reach the HAL server at {self.url}: {exc} (is one running? start it with hal server; "
                f"the CLI finds it through HAL_HOME, now {_home()}, or HAL_URL)",
            )
            error.sent = not isinstance(exc, httpx.ConnectError)  # the request went out; the answer was lost
            raise error from None
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            if not isinstance(detail, str):
                detail = json.dumps(detail)
            if resp.status_code in (404, 405) and detail in ("Not Found", "Method Not Allowed"):  # no such route
                detail = f"the server at {self.url} does not offer {method} {path}: is it an older HAL? restart it"
            raise HalError(resp.status_code, detail)
        return resp

    def submit(
        self,
        script: str = "",
        *,
        wrap: str | None = None,
        options: dict[str, str | int | bool] | None = None,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
        idempotency_key: str | None = None,
        args: list[str] | None = None,
    ) -> dict[str, Any]:
        """Submit a batch script (or ``wrap`` a command); options use sbatch's long names, e.g.
        ``{"time": "10:00", "ntasks": 4}``. A retry with the same ``idempotency_key`` returns the same job.
        ``env`` goes with SLURM_UMASK set to this process's umask unless it sets one (sbatch's rule), so the job's
        output files get the caller's permissions, not the server's.
        A working directory whose name is not UTF-8 (os.getcwd() in a Latin-1 directory) is sent as its raw bytes;
        other text that is not UTF-8 is refused with a ValueError naming it (it could not be sent as JSON)."""
        body: dict[str, Any] = {
            "script": script,
            "wrap": wrap,
            "options": options or {},
            "env": with_umask(dict(env or {})),  # the caller's umask, as sbatch sends it
            "workdir": workdir or self.workdir or os.getcwd(),
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
            "args": list(args or []),
        }
        folder = str(body["workdir"])
        if not is_text(folder):  # the server runs the job there through an alias (api/text_checks.raw_workdir)
            body["workdir_bytes"] = base64.b64encode(os.fsencode(folder)).decode("ascii")
            body["workdir"] = os.fsencode(folder).decode("utf-8", "replace")
        _check_json_text(body)
        return self._submitted(body)

    def _submitted(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST the submission; when the answer is lost after the request went out (the controller was killed or
        restarted), ask again with the same idempotency key until it answers: the job was made at most once,
        and a retry by hand would have made it twice (QA: a 5,000-task array was committed, the CLI said it
        could not reach the server)."""
        gone_since: float | None = None
        while True:
            try:
                return dict(self._call("POST", "/v1/jobs", json=body).json())
            except HalError as exc:
                if exc.status != 0 or not (exc.sent or gone_since is not None):
                    raise
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since > SUBMIT_RETRY:
                    raise HalError(0, f"{exc}; the submission may have been accepted: check hal queue") from None
                time.sleep(1.0)
                self._reconnect()

    def get(self, job: int | str, start: bool = False, duplicates: bool = False, detail: bool = True) -> dict[str, Any]:
        """A job (an array's summary); ``start``: with a pending job's forecast start (p50, p90); ``duplicates``:
        with its earlier attempts, if it was requeued (``attempts``, as sacct -D); ``detail=False``: the listing's
        fields only, without script, dependencies and the rest of the request (a fraction of a large array's)."""
        params: dict[str, Any] = {k: True for k, on in (("start", start), ("duplicates", duplicates)) if on}
        if not detail:
            params["detail"] = False
        return dict(self._call("GET", f"/v1/jobs/{job}", params=params or None).json())

    def list(self, state: str | None = None, all_users: bool = False, **filters: Any) -> builtins.list[dict[str, Any]]:
        """Job records; ``filters``: user, partition, since, until, limit, after, detail, start, duplicates (each
        record with its earlier attempts, as sacct -D)."""
        params = {k: v for k, v in {"state": state, "all_users": all_users, **filters}.items() if v is not None}
        return list(self._call("GET", "/v1/jobs", params=params).json()["jobs"])

    def cancel(self, job: int | str) -> builtins.list[int]:
        return list(self._call("DELETE", f"/v1/jobs/{job}").json()["cancelled"])

    def cancel_many(self, jobs: builtins.list[str]) -> tuple[dict[str, builtins.list[int]], dict[str, str]]:
        """Cancel several jobs in one request: per job, the ids cancelled (none: it had already ended), and why
        the ones that could not be cancelled (another user's) were not."""
        got = self._call("POST", "/v1/jobs/cancel", json={"jobs": jobs}).json()
        return {str(k): list(v) for k, v in got["cancelled"].items()}, dict(got.get("failed", {}))

    def signal(self, job: int | str, sig: str, batch: bool = False, full: bool = False) -> builtins.list[int]:
        """Send a signal to running jobs without cancelling them (scancel -s); returns the ids reached."""
        body = {"signal": sig, "batch": batch, "full": full}
        return list(self._call("POST", f"/v1/jobs/{job}/signal", json=body).json()["signalled"])

    def priority(self) -> dict[str, Any]:
        """Pending jobs' multifactor priorities, factor by factor (sprio)."""
        return dict(self._call("GET", "/v1/priority").json())

    def shares(self) -> dict[str, Any]:
        """Users' decayed usage and fair-share factors (sshare)."""
        return dict(self._call("GET", "/v1/shares").json())

    def advice(self, job: int | str, topology_only: bool = False) -> dict[str, Any]:
        """For a pending job: the shorter --time its earlier runs suggest, and the planned starts with and without;
        ``topology_only``: only what holds it beyond its resources, in the server's words (key ``topology``)."""
        params = {"topology_only": True} if topology_only else None
        return dict(self._call("GET", f"/v1/jobs/{job}/advice", params=params).json())

    def requeue(self, job: int | str) -> builtins.list[int]:
        """Queue running (stopped first) or ended jobs again under the same ids (scontrol requeue)."""
        return list(self._call("POST", f"/v1/jobs/{job}/requeue").json()["requeued"])

    def update(self, job: int | str, **fields: str | int) -> builtins.list[int]:
        """scontrol update job: ``update(12, TimeLimit="30", Nice=10)``; returns the ids changed (``update_notes``
        also what the server kept that was not asked, such as an input's writer as an afterok)."""
        return list(self.update_notes(job, **fields)["updated"])

    def update_notes(self, job: int | str, **fields: str | int) -> dict[str, Any]:
        """``update``'s whole reply: ``updated`` (ids) and ``notes`` (each a sentence, as sbatch warns)."""
        body = {"fields": {k: str(v) for k, v in fields.items()}}
        return dict(self._call("POST", f"/v1/jobs/{job}/update", json=body).json())

    def hold(self, job: int | str) -> builtins.list[int]:
        """Keep pending jobs from starting (scontrol hold); returns the ids held."""
        return list(self._call("POST", f"/v1/jobs/{job}/hold").json()["held"])

    def release(self, job: int | str) -> builtins.list[int]:
        """Let held jobs start again (scontrol release); returns the ids released."""
        return list(self._call("POST", f"/v1/jobs/{job}/release").json()["released"])

    def wait(
        self, job: int | str, timeout: float | None = None, poll: float = 0.05, detail: bool = True
    ) -> dict[str, Any]:
        """Poll until the job (every task of an array) has ended; raises TimeoutError after ``timeout`` s. Polls
        ask for the light record (detail=false: states, exit codes, times; a 10,000-task array's full one was
        13 MB, read every second); the full record is read once at the end, unless ``detail=False``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        gone_since: float | None = None
        while True:
            left = None if deadline is None else max(0.1, deadline - time.monotonic())
            try:  # a poll waits no longer than the time left (QA: a hung server took 30 s per poll past timeout=3)
                kw: dict[str, Any] = {} if left is None else {"timeout": min(left, self._http.timeout.read or left)}
                rec = dict(self._call("GET", f"/v1/jobs/{job}", params={"detail": False}, **kw).json())
            except HalError as exc:  # the controller restarts (its jobs run on): wait for it, as sbatch --wait does
                if exc.status != 0:
                    raise
                gone_since = gone_since or time.monotonic()
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"job {job}: no answer from the HAL server within {timeout} s ({exc})") from None
                if time.monotonic() - gone_since > RESTART_WAIT:
                    raise
                time.sleep(1.0)
                self._reconnect()
                continue
            gone_since = None
            tasks = rec.get("tasks") or [rec]
            if all(t["state"] in TERMINAL for t in tasks):
                return self.get(job) if detail else rec  # ended: its record no longer changes
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job} still {rec['state']} after {timeout} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _reconnect(self) -> None:
        """Point at the server's current address (a restart may have given it another port)."""
        if not self._found:
            return
        url = default_url().rstrip("/")
        if url != self.url:
            self.url = url
            self._http.base_url = httpx.URL(url)

    def logs(self, job: int | str, stream: str = "stdout") -> str:
        return self._call("GET", f"/v1/jobs/{job}/logs", params={"stream": stream}).text

    def datasets(self) -> builtins.list[dict[str, Any]]:
        """The data plane's catalog: each dataset with its size, checksum, URI and replica locations."""
        return list(self._call("GET", "/v1/datasets").json()["datasets"])

    def add_dataset(self, name: str, uri: str, location: str = "origin") -> dict[str, Any]:
        """Register an existing file or folder (any fsspec URL the server reads) as a dataset (admins)."""
        body = {"name": name, "uri": uri, "location": location}
        # the server reads the whole file for its checksum before answering: give a large one time
        return dict(self._call("POST", "/v1/datasets", json=body, timeout=3600.0).json())

    def dataset(self, name: str) -> dict[str, Any]:
        """One dataset: its size, checksum, every copy (location, kind, URI) and the jobs that read or write it."""
        return dict(self._call("GET", f"/v1/datasets/{_segment(name)}").json())

    def add_replica(self, name: str, uri: str, location: str) -> dict[str, Any]:
        """Register a copy of a dataset kept elsewhere (admins); the server checks it is the dataset, byte for byte."""
        body = {"uri": uri, "location": location}
        path = f"/v1/datasets/{_segment(name)}/replicas"
        return dict(self._call("POST", path, json=body, timeout=3600.0).json())

    def remove_replica(self, name: str, location: str) -> dict[str, Any]:
        """Forget a registered copy (admins); its file stays where it is."""
        path = f"/v1/datasets/{_segment(name)}/replicas"  # the location as a query: `..` in a path was a route
        return dict(self._call("DELETE", path, params={"location": location}).json())

    def remove_kept(self, job: int | str) -> dict[str, Any]:
        """Remove an ended job's failed outputs kept in node caches now (its user or admins): ``removed`` (job id ->
        node:name) and ``not_removed`` (job id -> why), for each job of an array."""
        return dict(self._call("DELETE", f"/v1/jobs/{quote(str(job), safe='')}/kept-outputs").json())

    def remove_dataset(self, name: str) -> dict[str, Any]:
        """Forget a dataset and delete its cached copies (admins); refused while a job reads it."""
        return dict(self._call("DELETE", f"/v1/datasets/{_segment(name)}").json())

    def nodes(self) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/nodes").json())

    def summary(self) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/queue/summary").json())

    def drain(self, nodes: str, reason: str) -> builtins.list[str]:
        """Admins: take nodes out of service (running jobs finish); returns the nodes drained."""
        return list(self._call("POST", "/v1/nodes/drain", json={"nodes": nodes, "reason": reason}).json()["drained"])

    def resume(self, nodes: str) -> builtins.list[str]:
        return list(self._call("POST", "/v1/nodes/resume", json={"nodes": nodes}).json()["resumed"])

    def whoami(self) -> dict[str, Any]:
        return dict(self._call("GET", "/v1/whoami").json())

    def create_token(self, user: str, admin: bool = False) -> str:
        return str(self._call("POST", "/v1/tokens", json={"user": user, "admin": admin}).json()["token"])

    def session(self, app: str, slots: int | None = None, **options: Any) -> Any:
        """An HTC session on the server's session manager (hal.htc.client.Session): tasks stream over its
        socket, not REST. ``with client.session("pricing", slots=8, common=curves) as s: s.map(trades)``."""
        return self._htc().session(app, slots, **options)

    def attach_session(self, session_id: int) -> Any:
        """Re-attach to a recoverable HTC session to collect its results."""
        return self._htc().attach(session_id)

    def _htc(self) -> Any:
        from hal.htc.client import HtcClient

        where = self._call("GET", "/v1/htc").json()
        ticket = (where["user"], bool(where.get("admin")), where["ticket"]) if "ticket" in where else None
        return HtcClient(where["address"], user=where["user"], ticket=ticket)


def _segment(name: str) -> str:
    """A dataset name as one path segment: quoted, and never a dot segment, which a URL resolves away (QA: `hal
    dataset rm-copy small --location ../../tiny2` deleted dataset tiny2 and said it removed a copy)."""
    if name in (".", "..") or not name:
        raise HalError(400, f"{name!r} is not a dataset name")
    return quote(name, safe="")

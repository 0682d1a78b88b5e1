"""The spool directory shared by the executor and its supervisors, written so a crash at any moment leaves whole files.

Layout (one directory per job; markers announce news to `events()` without scanning every job):

    jobs/<id>/spec.json       what the supervisor runs: argv, cwd, env, files, limits (written by the executor)
    jobs/<id>/script          the batch script
    jobs/<id>/supervisor.pid  {"pid", "start"}: written by the supervisor once it is safe to signal
    jobs/<id>/started.json    the job's pid, process group and start time
    jobs/<id>/cancel.json     a cancel request {"grace", "time"}: the supervisor acts on it
    jobs/<id>/record.json     the exit record: state, exit code, signal, times, cpu seconds, max rss
    jobs/<id>/supervisor.log  the supervisor's own stderr, for post-mortems
    jobs/<id>/claimed         created exclusively by the one supervisor that runs the job
    started/<id>, ended/<id>  empty markers: "read this job's started.json / record.json"
    run/launcher-*.sock       the executor's fork server (launcher.py)

Only the standard library is imported here: the supervisor imports this module and must start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

RECORD_RETRY_EVERY = 1.0  # seconds between attempts to write an exit record on a spool that cannot take it
RECORD_RETRY_FOR = 7 * 24 * 3600.0  # how long a supervisor keeps its job's exit record waiting for disk space
INSTANCE = "instance"  # the spool's id, made once with it (so with its server's home): see Spool.own_instance


class Spool:
    instance = ""  # this spool's id, once its executor has taken it (own_instance); "" in a supervisor

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()  # supervisors run elsewhere (cwd = their job directory)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # specs hold users' environments
        for sub in ("jobs", "started", "ended", "run"):
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)

    def run_dir(self) -> Path:
        """Sockets of this host's executors (launcher-<pid>-<n>.sock)."""
        return self.root / "run"

    def job_dir(self, job_id: int) -> Path:
        return self.root / "jobs" / str(job_id)

    def file(self, job_id: int, name: str) -> Path:
        return self.job_dir(job_id) / name

    def read(self, job_id: int, name: str) -> dict[str, Any] | None:
        return read_json(self.file(job_id, name))

    def write(self, job_id: int, name: str, data: dict[str, Any], durable: bool = False) -> None:
        write_json(self.file(job_id, name), data, durable)

    def mark(self, kind: str, job_id: int) -> None:
        """Announces news (kind is "started" or "ended"); the data file is already in place when this appears."""
        fd = os.open(self.root / kind / str(job_id), os.O_WRONLY | os.O_CREAT, 0o644)
        os.close(fd)

    def marked(self, kind: str) -> list[int]:
        ids = []
        for name in os.listdir(self.root / kind):
            if name.isdigit():
                ids.append(int(name))
        return ids

    def unmark(self, kind: str, job_id: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / kind / str(job_id))

    def write_record_once(self, job_id: int, data: dict[str, Any], durable: bool = False) -> bool:
        """Writes the exit record unless one exists (the executor's NODE_FAIL must not overwrite a late real one).

        Atomic, so a record survives any process crash whole; not fsynced by default (an fsync costs ~15 ms per
        job here, and a power loss ends the jobs on this machine anyway)."""
        path = self.file(job_id, "record.json")
        tmp = path.with_name(f"record.json.{os.getpid()}.tmp")
        try:
            _write_synced(tmp, data, durable)
            os.link(tmp, path)  # atomic and exclusive: fails if a record is already there
        except FileExistsError:
            return False
        finally:  # also after a failed write (a full disk): a half-written leftover would hold on to space
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if durable:
            _sync_dir(path.parent)
        return True

    def own_instance(self) -> str:
        """The executor's: this spool's id, made at its first use. Each job's spec.json carries it to its
        supervisor and back in its exit record, so a supervisor of a home since removed and made again never
        reports into the new home's job of the same id (QA: new job 8 was marked COMPLETED by old job 8's end)."""
        path = self.root / INSTANCE
        tmp = path.with_name(f"{INSTANCE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(os.urandom(16).hex(), encoding="ascii")
            os.link(tmp, path)  # atomic and exclusive: the first id made stays
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.instance = self.current_instance()
        return self.instance

    def current_instance(self) -> str:
        try:
            return (self.root / INSTANCE).read_text(encoding="ascii").strip()
        except (OSError, ValueError):
            return ""

    def end_record(self, job_id: int) -> dict[str, Any] | None:
        """The job's exit record, unless another instance's supervisor wrote it (``own_instance``): that one is
        not this job's end; it is removed, with a log line, and None returned."""
        record = self.read(job_id, "record.json")
        theirs = record.get("instance") if record is not None else None
        if record is None or not self.instance or not theirs or theirs == self.instance:  # none before ids: ours
            return record
        import logging  # here only: supervisors import this module and must start fast

        logging.getLogger("hal.executors.local").warning(
            "job %s: ignored an exit record (%s) from a supervisor of another server instance (%s, not %s): "
            "a job of a removed home with the same id", job_id, record.get("state"), theirs, self.instance
        )  # fmt: skip
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file(job_id, "record.json"))
        self.unmark("ended", job_id)
        return None

    def record_end(self, job_id: int, data: dict[str, Any], retry_for: float = RECORD_RETRY_FOR) -> bool:
        """Writes the exit record (unless one exists) and marks the job ended, retrying a spool that cannot be
        written (a full disk, ENOSPC) every RECORD_RETRY_EVERY seconds for up to ``retry_for`` seconds, with a
        line on stderr now and then: a job's end is never lost to a full disk. False if it gave up, or if the
        job's directory is gone (the executor forgot the job), or the spool is another instance's (its home was
        removed and made again: a job there may have this id)."""
        deadline = time.monotonic() + retry_for
        delay, failures = 0.1, 0
        if data.get("instance") and data["instance"] != self.current_instance():  # our home is gone
            _say(f"job {job_id}: the spool now belongs to another server instance; its exit record is not written")
            return False
        while True:
            try:
                self.write_record_once(job_id, data)
                self.mark("ended", job_id)
                if failures:
                    _say(f"job {job_id}: exit record written after {failures} failed attempt(s)")
                return True
            except FileNotFoundError:
                return False
            except OSError as exc:
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    _say(f"job {job_id}: cannot write its exit record ({exc}); retrying every {RECORD_RETRY_EVERY:g} s")
                if time.monotonic() + delay > deadline:
                    _say(f"job {job_id}: giving up on its exit record after {failures} attempts")
                    return False
            time.sleep(delay)
            delay = min(delay * 2, RECORD_RETRY_EVERY)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (ValueError, OSError):
        return None  # a torn file cannot happen with write_json; a foreign one is treated as absent
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any], durable: bool = False) -> None:
    """Atomic replace (a temporary file renamed over the target): a killed writer never leaves half a file.

    durable also fsyncs, so the file survives a power loss, not just a process crash.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        _write_synced(tmp, data, durable)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _sync_dir(path.parent)


def _write_synced(path: Path, data: dict[str, Any], durable: bool) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())


def _say(text: str) -> None:
    """A line on stderr (the supervisor's log, perhaps on the very disk that is full: then it is dropped)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

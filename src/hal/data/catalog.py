"""Which datasets exist (name, size, checksum, URI) and where their replicas are; saved as JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from hal.data.spots import DATASET, Entry, Spot, Spots
from hal.data.tree import read_sha256

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", re.ASCII)  # a file name in the node caches, as --input-data takes it
MAX_NAME = 200  # file systems stop at 255 bytes; a longer name failed every stage-in
NAME_RULE = (
    f"a dataset name is 1 to {MAX_NAME} ASCII letters, digits, '_', '-' and '.', and starts with a letter, a digit "
    "or '_'"
)
DIGEST = re.compile(r"sha256(-tree)?:[0-9a-f]{64}", re.ASCII)
CHUNK = 4 << 20
log = logging.getLogger("hal.data")


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    size: int
    checksum: str  # "sha256:<hex>" of a file, "sha256-tree:<hex>" of a folder (hal.data.tree)
    uri: str  # the origin copy, any fsspec URL or local path (a file, or a folder)
    owner: str = ""  # the user whose job wrote it (--output-data; they may remove it); "" when an admin added it


@dataclass(frozen=True, slots=True)
class Replica:
    """A copy of a dataset at a location: a node name (its cache) or storage, written ``level=label``
    (``site=onprem`` for a site file system, ``site=cloud`` for a bucket in the cloud site)."""

    dataset: str
    location: str
    uri: str


Listener = Callable[[str, Replica], None]  # ("add" | "remove", replica)


def checksum_of(uri: str) -> tuple[str, int]:
    """sha256 of a file through fsspec, read in chunks: ("sha256:<hex>", size); of a folder (one the file
    system lists: a local path, an object store's prefix), its tree digest and the bytes of its files
    (``hal.data.tree``). Only regular files (or objects) are read, and no further than the size they had:
    /dev/zero or a pipe, typed by mistake, kept a server thread hashing forever and the server deaf to SIGTERM."""
    for inner in uri.split("::")[1:]:  # a chained URL (zip://x::file:///dev/zero) reads its container first
        _regular(inner)
    import fsspec  # here, not at import: ~50 ms of every server start, which may have no data plane at all

    fs, path = fsspec.core.url_to_fs(uri)
    info = fs.info(path)
    kind = info.get("type", "file")
    if kind == "directory":
        from hal.data.tree import tree_checksum

        return tree_checksum(fs, path, public_uri(uri), CHUNK)
    if kind != "file":
        what = {"other": "a device, pipe or socket"}.get(kind, kind)
        raise ValueError(f"{public_uri(uri)} is not a regular file: it is {what}")
    hexdigest, size = read_sha256(fs, path, info.get("size"), public_uri(uri), CHUNK)
    return f"sha256:{hexdigest}", size


OS_WORDS = {FileNotFoundError: "no such file", PermissionError: "permission denied", IsADirectoryError: "a folder"}


def unreadable(uri: str, exc: Exception) -> str:
    """Why ``checksum_of(uri)`` failed, in plain words for whoever gave the address: the address and the reason
    (the OS's, or the check's), never the exception's class name (users read "FileNotFoundError: [Errno 2]")."""
    text = str(exc)
    if isinstance(exc, OSError):
        text = exc.strerror or OS_WORDS.get(type(exc), "") or text
        if exc.filename and str(exc.filename) not in uri:  # a file the address led to: named too
            text = f"{text}: {exc.filename}"
    elif text.startswith((f"{public_uri(uri)} ", f"{public_uri(uri)}: ")):  # the check named the address: once
        return text
    return f"cannot read {uri}: {text or 'the storage gave no reason'}"


def read_by(name: str, readers: list[int], others: int = 0) -> str:
    """Why dataset ``name`` cannot be removed: unended jobs read it (it said "jobs 41 read 'small'"). ``readers``:
    the jobs the asker may see; ``others``: how many more are other users' (counted, never named: QA, a user was
    told another user's job id and to cancel it, which they may not, as `hal dataset show` counts them)."""
    shown = ", ".join(map(str, readers[:10])) + (f" and {len(readers) - 10} more" if len(readers) > 10 else "")
    if not others:
        if len(readers) == 1:
            return f"dataset {name!r} is read by job {shown}, which has not ended: cancel it or wait until it ends"
        return f"dataset {name!r} is read by jobs {shown}, which have not ended: cancel them or wait until they end"
    theirs = f"{others} job{'s' if others > 1 else ''} of another user"
    if not readers:
        ends = (
            "which has not ended: it can be removed once that job ends"
            if others == 1
            else ("which have not ended: it can be removed once they end")
        )
        return f"dataset {name!r} is read by {theirs}, {ends}"
    yours = f"job {shown}" if len(readers) == 1 else f"jobs {shown}"
    return (
        f"dataset {name!r} is read by {yours} and {theirs}, which have not ended: cancel yours or wait until they end"
    )


def _regular(uri: str) -> None:
    """A local file a chained URL opens must be a regular file (an archive), never a device or a pipe."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    fs, path = fsspec.core.url_to_fs(uri)
    if isinstance(fs, LocalFileSystem) and not Path(path).is_file():
        raise ValueError(f"{public_uri(uri)} is not a regular file")


class CatalogError(ValueError):
    """A catalog file that cannot be used: where it should be and why not."""


class CatalogSaveError(OSError):
    """The catalog file could not be written: nothing changed (in memory either); names the file and why."""

    def __init__(self, path: Path, exc: OSError) -> None:
        why = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        super().__init__(exc.errno, f"cannot save the catalog {path}: {why}")
        self.path = path

    def __str__(self) -> str:
        return str(self.args[1])


class Catalog:
    """Datasets and replicas; listeners (the engine's locality view) hear every replica change."""

    @staticmethod
    def check_folder(path: object) -> None:
        """A catalog file's folder must exist (its file need not: a first start makes it); named resolved (QA: it
        read ``/site/conf/../state``)."""
        if path and not Path(str(path)).parent.is_dir():
            where = Path(str(path)).absolute().parent.resolve()
            raise CatalogError(f"catalog {path}: its folder {where} does not exist")

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.datasets: dict[str, Dataset] = {}
        self.replicas: dict[str, dict[str, Replica]] = {}
        self.listeners: list[Listener] = []
        self._lock = threading.RLock()
        Catalog.check_folder(path)
        # No file where the cluster file says: a first start, or a catalog moved away or misspelt in [data]; the
        # restart then keeps the node caches' copies it cannot match (hal/data/restart.py) instead of deleting them.
        self.missing = path is not None and not path.exists()
        self.replacing = False  # missing where one was (restart.py): each new file says what restoring it loses
        self._said: set[str] = set()  # the datasets that warning named already
        # uri -> (name, owner) of job outputs forgotten (hal dataset rm) whose file stays: a later output of that
        # name by the same user (or an administrator) may write there again (hal.data.destination refuses to
        # overwrite data no dataset names; QA: another user's job of the same output name replaced the file)
        self.released: dict[str, tuple[str, str]] = {}
        self._spots: Spots | None = None  # the copies by address (hal.data.spots), built when first asked for
        if path is not None and not self.missing:
            self._load(path)

    def register(self, dataset: Dataset, home: str = "origin") -> Dataset:
        """Add a dataset and its origin replica at location ``home``; nothing changes if it cannot be saved."""
        replica = Replica(dataset.name, home, dataset.uri)
        with self._lock, self._saved():
            self.released.pop(dataset.uri, None)
            if (was := self.datasets.get(dataset.name)) is not None:
                self._unspot(dataset.name, DATASET, was.uri)
            self.datasets[dataset.name] = dataset
            self._respot(self.replicas.setdefault(dataset.name, {}), replica)
            self._spot(dataset.name, DATASET, dataset.uri)
        for listener in self.listeners:
            listener("add", replica)
        return dataset

    def register_file(self, name: str, uri: str, home: str = "origin") -> Dataset:
        """Register an existing file or folder, measuring its size and checksum."""
        digest, size = checksum_of(uri)
        return self.register(Dataset(name, size, digest, uri), home)

    def get(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise KeyError(f"unknown dataset {name!r}: not in the catalog") from None  # other users' names not listed

    def replicas_of(self, name: str) -> list[Replica]:
        with self._lock:
            return list(self.replicas.get(name, {}).values())

    def add_replica(self, replica: Replica) -> None:
        with self._lock, self._saved():
            self._respot(self.replicas.setdefault(replica.dataset, {}), replica)
        for listener in self.listeners:
            listener("add", replica)

    def remove_replica(self, name: str, location: str) -> None:
        with self._lock, self._saved():
            replica = self.replicas.get(name, {}).pop(location, None)
            if replica is not None:
                self._unspot(name, location, replica.uri)
        if replica is not None:
            for listener in self.listeners:
                listener("remove", replica)

    def forget(self, name: str) -> None:
        """Remove a dataset and every replica of it (listeners hear each replica go)."""
        with self._lock, self._saved():
            replicas = list(self.replicas.pop(name, {}).values())
            for replica in replicas:
                self._unspot(name, replica.location, replica.uri)
            if (gone := self.datasets.pop(name, None)) is not None:
                self._unspot(name, DATASET, gone.uri)
                if gone.owner:  # a job's output: its file stays, replaced only by its owner's or an admin's job
                    self.released[gone.uri] = (name, gone.owner)
        for replica in replicas:
            for listener in self.listeners:
                listener("remove", replica)

    def overlapping(self, spot: Spot) -> list[tuple[Spot, Entry]]:
        """The copies (dataset, location, uri; location "" for a dataset's own address) at address ``spot``, in a
        folder above it or beneath it: the overwrite guard's index (``hal.data.spots``), built when first asked
        for and kept up to date from then on."""
        with self._lock:
            if self._spots is None:
                entries = [(n, DATASET, d.uri) for n, d in self.datasets.items()]
                entries += [(n, r.location, r.uri) for n, reps in self.replicas.items() for r in reps.values()]
                self._spots = Spots(entries)
            return self._spots.overlapping(spot)

    def _spot(self, name: str, location: str, uri: str) -> None:
        if self._spots is not None:
            self._spots.add((name, location, uri))

    def _unspot(self, name: str, location: str, uri: str) -> None:
        if self._spots is not None:
            self._spots.remove((name, location, uri))

    def _respot(self, replicas: dict[str, Replica], replica: Replica) -> None:
        """``replica`` in place of the one at its location."""
        if (was := replicas.get(replica.location)) is not None:
            self._unspot(was.dataset, was.location, was.uri)
        replicas[replica.location] = replica
        self._spot(replica.dataset, replica.location, replica.uri)

    @contextlib.contextmanager
    def _saved(self) -> Iterator[None]:
        """The changes made inside, saved; undone in memory when the save fails (a full disk, a read-only
        folder), so the catalog never serves what its file does not hold (a dataset `hal dataset add` was told
        failed stayed registered, its name taken, until the server restarted and lost it)."""
        datasets, replicas = dict(self.datasets), {k: dict(v) for k, v in self.replicas.items()}
        released = dict(self.released)
        try:
            yield
            self._save()
        except BaseException:
            self.datasets.clear()  # in place: others may hold these dicts
            self.datasets.update(datasets)
            self.replicas.clear()
            self.replicas.update(replicas)
            self.released = released
            self._spots = None  # built again from what was restored when next asked for
            raise

    def _save(self) -> None:
        """Written to a temporary file then moved over the catalog, readable by its owner only (0600): a
        dataset's address may hold the credentials that open it."""
        if self.path is None:
            return
        data = {
            "datasets": [asdict(d) for d in self.datasets.values()],
            "replicas": [asdict(r) for reps in self.replicas.values() for r in reps.values()],
            "released": [{"uri": uri, "dataset": n, "owner": o} for uri, (n, o) in self.released.items()],
        }
        tmp = self.path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)  # a file left by an older server kept its mode
                fh.write(json.dumps(data, indent=1))
            tmp.replace(self.path)
        except OSError as exc:
            raise CatalogSaveError(self.path, exc) from exc
        if self.replacing and (new := sorted(set(self.datasets) - self._said)):
            self._said.update(new)
            shown = ", ".join(f"{n} (at {public_uri(self.datasets[n].uri)})" for n in new)
            log.warning(
                "catalog %s is written anew (the server started without it): restoring the old file later drops "
                "what was registered since, %s; to keep both, register these again there with hal dataset add "
                "NAME URI", self.path, shown,
            )  # fmt: skip

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for d in data.get("datasets", []):
                got = _checked(Dataset(**d))
                if got.name in self.datasets:  # the second entry silently replaced the first
                    raise ValueError(f"dataset {got.name!r} is listed twice")
                self.datasets[got.name] = got
            for r in data.get("replicas", []):
                self.replicas.setdefault(r["dataset"], {})[r["location"]] = Replica(**r)
            # an entry saved before owners were kept ("" ): only an administrator's job replaces its file
            self.released = {
                str(r["uri"]): (str(r["dataset"]), str(r.get("owner", ""))) for r in data.get("released", [])
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CatalogError(
                f"catalog {path} is not a HAL catalog (JSON of datasets and replicas): {exc}; the server does not "
                "start on it, and nothing in the node caches was deleted: restore the file (or fix [data] catalog)"
            ) from exc


def _checked(d: Dataset) -> Dataset:
    """A catalog entry's fields of the right kind: a size of "big" failed later, far from the file; a hand-edited
    name no command could use ("../x") or a truncated digest ("sha256:00") were served (QA)."""
    if not isinstance(d.name, str) or not d.name or not isinstance(d.uri, str) or not isinstance(d.owner, str):
        raise ValueError(f"dataset {d.name!r}: name, uri and owner are text")
    if not NAME.fullmatch(d.name) or len(d.name) > MAX_NAME:
        raise ValueError(f"dataset {d.name!r}: {NAME_RULE}")
    if isinstance(d.size, bool) or not isinstance(d.size, int) or d.size < 0:
        raise ValueError(f"dataset {d.name!r}: size is a whole number of bytes, not {d.size!r}")
    if not isinstance(d.checksum, str) or not DIGEST.fullmatch(d.checksum):
        raise ValueError(
            f"dataset {d.name!r}: checksum is 'sha256:<64 hex digits>' or 'sha256-tree:<64 hex digits>', not "
            f"{d.checksum!r}"
        )
    return d


def public_uri(uri: str) -> str:
    """A dataset's address as a non-admin sees it: where it is, without what opens it (user:password@ in the
    address, a signed URL's query), which the catalog keeps for the server's own reads. Chained fsspec URLs
    (``simplecache::s3://...``) are cleaned link by link."""
    if "::" in uri:
        return "::".join(public_uri(part) for part in uri.split("::"))
    if "://" not in uri:
        return uri
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "<hidden>" if parts.query else "", ""))

"""Backup and restore of a data directory and its collection as one tar file.

The backup is taken while this process holds the store (the embedded engine's lock keeps
other processes out), after a flush: the catalog is copied with SQLite's online backup
API, so it is consistent even in WAL mode; page images and kept uploads are copied as
files. The collection travels as the embedded engine's shard files, or, from a Qdrant
server, as its points read back with their vectors (`rag.storage.vectors.dump`).

Restore refuses a data directory that already holds documents (unless told to replace
it) and checks every member itself before anything is deleted: regular files and folders
only, under the names a backup writes, no links, no absolute or `..` names, the unpacked
total within RAG_MAX_RESTORE_MB and the free disk space; files are then written one by
one under the resolved data directory, never through a link.
A shard restored into the embedded engine is used as is; any other pair (server to
server, embedded to server, server to embedded) upserts the points into a new
collection and points the collection name at it. The caller then checks that points and
catalog units agree.
"""

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from contextlib import closing
from dataclasses import asdict, dataclass, fields
from itertools import chain, count, islice
from pathlib import Path, PurePosixPath
from typing import Any

from rag.core.errors import BackupError, RagError, first_line
from rag.storage.catalog import Catalog
from rag.storage.vectors.base import Collections, Schema, Store, replace_collection
from rag.storage.vectors.dump import read_chunks, write_chunk
from rag.storage.vectors.embedded import EdgeCollections

FORMAT = 1
MANIFEST = "mmrag-backup.json"
POINTS = "points"
TOP_LEVEL = {MANIFEST, "catalog.sqlite3", "store", "images", "uploads", POINTS}  # what we write
CHUNK = 10_000  # points per file in a backup: bounds the temporary space while writing


@dataclass
class BackupManifest:
    """What a backup holds, as `mmrag-backup.json` inside it; `points` is filled in by a
    restore, once the restored collection has been counted."""

    format: int
    created: float = 0.0
    documents: int = 0
    units: int = 0
    store: str = "embedded"  # "embedded" (shard files travel) or "server" (points travel)
    collection: str | None = None
    schema: dict[str, Any] | None = None
    points: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BackupManifest":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def write_backup(
    data_dir: Path, catalog: Catalog, out: Path, store: Store | None, kind: str
) -> BackupManifest:
    """Write `out` (tar) holding catalog, collection, images and uploads; return the
    manifest. `kind` says how the collection travels: shard files or points."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog.sqlite3"
        catalog.copy_to(copy)
        with closing(sqlite3.connect(copy)) as db:
            documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            units = db.execute("SELECT count(*) FROM units").fetchone()[0]
        manifest = BackupManifest(
            format=FORMAT,
            created=time.time(),
            documents=documents,
            units=units,
            store=kind,
            collection=store.name if store else None,
            schema=store.schema.to_json() if store else None,
        )
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(out, "w") as tar:
                tar.add(Path(tmp) / MANIFEST, MANIFEST)
                tar.add(copy, "catalog.sqlite3")
                if store is not None and kind != "embedded":
                    _add_points(tar, store, Path(tmp))
                folders = (
                    ("store", "images", "uploads") if kind == "embedded" else ("images", "uploads")
                )
                for name in folders:
                    folder = data_dir / name
                    if folder.exists():
                        tar.add(folder, name, filter=_skip_locks)
        except OSError as exc:
            raise BackupError(f"Cannot write the backup to {out}: {exc.strerror or exc}.") from exc
    return manifest


def _add_points(tar: tarfile.TarFile, store: Store, tmp: Path) -> None:
    """Every point with its vectors, as gzipped JSON-lines chunks of CHUNK points."""
    points = chain.from_iterable(store.points(256))
    for number in count():
        chunk = list(islice(points, CHUNK))
        if not chunk:
            return
        path = tmp / f"points-{number:05d}.jsonl.gz"
        write_chunk(path, chunk)
        tar.add(path, f"{POINTS}/{path.name}")
        path.unlink()


def _skip_locks(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if member.name.endswith("/lock") else member


def read_manifest(backup: Path) -> BackupManifest:
    try:
        with tarfile.open(backup) as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{backup} is not an mmrag backup ({first_line(exc)}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(f"{backup} has backup format {found}; expected {FORMAT}.")
    try:
        return BackupManifest.from_json(manifest)
    except TypeError as exc:
        raise BackupError(f"{backup} has an incomplete manifest ({exc}).") from exc


def restore_backup(backup: Path, data_dir: Path, replace: bool, max_mb: float) -> None:
    """Unpack `backup` (its manifest already read) into `data_dir` (emptied first when
    `replace`); every member is checked before anything is deleted or written."""
    catalog = data_dir / "catalog.sqlite3"
    if catalog.exists() and not replace:
        with closing(sqlite3.connect(catalog)) as db:
            held = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        if held:
            raise BackupError(
                f"{data_dir} already holds {held} document(s); restore into an empty data"
                " directory or pass --replace."
            )
    try:
        with tarfile.open(backup) as tar:
            members = checked_members(tar, backup, max_mb, data_dir)
            empty_data_dir(data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
            for member in members:
                _unpack(tar, member, data_dir.resolve())
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{backup} cannot be unpacked ({first_line(exc)}).") from exc
    (data_dir / MANIFEST).unlink(missing_ok=True)


def checked_members(
    tar: tarfile.TarFile, backup: Path, max_mb: float, data_dir: Path
) -> list[tarfile.TarInfo]:
    """The members to unpack, or a BackupError naming the first unsafe one.

    Only regular files and folders under the top-level names a backup writes; no links of
    any kind, no absolute or `..` names (tarfile's own filter re-roots absolute names and
    was bypassed by CVE-2025-4517, so it is not relied on); the unpacked total within
    `max_mb` (RAG_MAX_RESTORE_MB) and the free disk space.
    """
    members, total = [], 0
    for member in tar.getmembers():
        name = member.name
        parts = PurePosixPath(name).parts
        unsafe = (
            (not (member.isfile() or member.isdir()))
            or member.issparse()
            or name.startswith(("/", "\\"))
            or "\\" in name
            or not parts
            or any(part in ("..", "") for part in parts)
            or parts[0] not in TOP_LEVEL
        )
        if unsafe:
            raise BackupError(f"{backup} holds an unsafe entry ({name!r}); nothing was restored.")
        total += member.size
        members.append(member)
    free = shutil.disk_usage(data_dir if data_dir.exists() else _existing_parent(data_dir)).free
    if total > max_mb * 1e6 or total > free:
        raise BackupError(
            f"{backup} unpacks to {total / 1e6:,.0f} MB, over the limit of {max_mb:,.0f} MB"
            f" (RAG_MAX_RESTORE_MB) or the {free / 1e6:,.0f} MB free; nothing was restored."
        )
    return members


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path) -> None:
    """Write one checked member under `root`, opening the file ourselves: never through a
    link, never outside `root`, never more bytes than the member declares."""
    target = root.joinpath(*PurePosixPath(member.name).parts)
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(root):
        raise BackupError(f"{member.name!r} would be written outside {root}.")
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has contents
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with source, os.fdopen(os.open(target, flags, 0o600), "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def empty_data_dir(data_dir: Path) -> None:
    """Remove what a backup holds from `data_dir`: catalog, store, images, uploads."""
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    for name in ("store", "images", "uploads", POINTS):
        shutil.rmtree(data_dir / name, ignore_errors=True)


def load_points(
    data_dir: Path,
    manifest: BackupManifest,
    collections: Collections,
    catalog: Catalog,
    collection: str,
) -> None:
    """Upsert a restored backup's points into a new collection of `collections`, point
    the collection name at it and drop the ones it replaces; remove the unpacked source.
    Points that cannot be read or stored are one BackupError."""
    dump = data_dir / POINTS
    source = None
    try:
        if dump.exists():
            if not manifest.schema:
                return
            schema = Schema.from_json(manifest.schema)
            batches = read_chunks(sorted(dump.glob("*.jsonl.gz")))
        else:
            shards = EdgeCollections(data_dir / "store", catalog, collection)
            physical = shards.active()
            if physical is None:
                return
            source = shards.open(physical, None)
            batches, schema = source.points(256), source.schema
        replace_collection(collections, schema, batches).close()
    except RagError:
        raise
    except Exception as exc:  # a damaged file, or vectors the engine refuses
        raise BackupError(f"The backup's points cannot be restored ({first_line(exc)}).") from exc
    finally:
        if source is not None:
            source.close()
    for stale in collections.others():
        collections.drop(stale)
    shutil.rmtree(dump, ignore_errors=True)
    if source is not None:
        shutil.rmtree(data_dir / "store", ignore_errors=True)

"""Backup and restore of an embedded data directory as one tar file.

The backup is taken while this process holds the store (its lock keeps other processes
out), after a flush: the catalog is copied with SQLite's online backup API, so it is
consistent even in WAL mode; the store's shard, page images and kept uploads are copied
as files. Restore refuses a data directory that already holds documents (unless told
to replace it), unpacks with tarfile's `data` filter (no absolute paths, no `..`, no
links out), and checks that points and catalog units agree.
"""

import json
import shutil
import sqlite3
import tarfile
import tempfile
import time
from contextlib import closing
from pathlib import Path

from rag.catalog import Catalog
from rag.errors import RagError

FORMAT = 1
MANIFEST = "mmrag-backup.json"


class BackupError(RagError):
    """A backup file is missing, unreadable or not ours, or a restore would overwrite data."""


def write_backup(data_dir: Path, catalog: Catalog, out: Path) -> dict:
    """Write `out` (tar) holding catalog, store, images and uploads; return the manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog.sqlite3"
        catalog.copy_to(copy)
        with closing(sqlite3.connect(copy)) as db:
            documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            units = db.execute("SELECT count(*) FROM units").fetchone()[0]
        manifest = {
            "format": FORMAT,
            "created": time.time(),
            "documents": documents,
            "units": units,
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(out, "w") as tar:
                tar.add(Path(tmp) / MANIFEST, MANIFEST)
                tar.add(copy, "catalog.sqlite3")
                for name in ("store", "images", "uploads"):
                    folder = data_dir / name
                    if folder.exists():
                        tar.add(folder, name, filter=_skip_locks)
        except OSError as exc:
            raise BackupError(f"Cannot write the backup to {out}: {exc.strerror or exc}.") from exc
    return manifest


def _skip_locks(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if member.name.endswith("/lock") else member


def read_manifest(backup: Path) -> dict:
    try:
        with tarfile.open(backup) as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{backup} is not an mmrag backup ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{backup} has backup format {manifest.get('format')}; expected {FORMAT}."
        )
    return manifest


def restore_backup(backup: Path, data_dir: Path, replace: bool) -> dict:
    """Unpack `backup` into `data_dir` (emptied first when `replace`)."""
    manifest = read_manifest(backup)
    catalog = data_dir / "catalog.sqlite3"
    if catalog.exists() and not replace:
        with closing(sqlite3.connect(catalog)) as db:
            held = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        if held:
            raise BackupError(
                f"{data_dir} already holds {held} document(s); restore into an empty data"
                " directory or pass --replace."
            )
    try:  # check every member before anything is deleted
        with tarfile.open(backup) as tar:
            for member in tar.getmembers():
                tarfile.data_filter(member, str(data_dir))
    except tarfile.TarError as exc:
        raise BackupError(f"{backup} holds an unsafe or broken entry ({exc}).") from exc
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    for name in ("store", "images", "uploads"):
        shutil.rmtree(data_dir / name, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(backup) as tar:
        tar.extractall(data_dir, filter="data")
    (data_dir / MANIFEST).unlink(missing_ok=True)
    return manifest

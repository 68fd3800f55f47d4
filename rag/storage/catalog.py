"""The catalog: a SQLite file recording documents, their units and ingestion state.

It is the source of truth for *what* was ingested (Qdrant holds the vectors, and can be
rebuilt from the catalog's units and the stored page images). It leaves out vectors and
page text, which live in the store's payloads.
"""

import json
import sqlite3
import time
import zlib
from collections.abc import Iterable
from pathlib import Path

from rag.core.errors import DocumentNotFoundError
from rag.core.records import Document, Status, WordBox

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,            -- sha256 of the file's bytes
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    media_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    units INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]', -- JSON list of strings
    added REAL NOT NULL,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS units (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    point_id TEXT NOT NULL,
    image_key TEXT,                 -- content address of the rendered image, if any
    words BLOB,                     -- zlib'd JSON [[x0, y0, x1, y1, word], ...] for highlights
    PRIMARY KEY (document_id, idx)
);
CREATE INDEX IF NOT EXISTS units_by_image ON units(image_key);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


UnitRow = tuple[int, str, str | None, list[WordBox]]


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"],
        source=row["source"],
        path=row["path"],
        media_type=row["media_type"],
        title=row["title"],
        status=Status(row["status"]),
        units=row["units"],
        tags=json.loads(row["tags"]),
        added=row["added"],
        reason=row["reason"],
    )


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching ids that start with `text` literally (`_` and `%` are
    wildcards in LIKE: unescaped, `rag delete ______` matched every document)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class Catalog:
    """Documents and units in SQLite (WAL mode, so readers never block the ingesting writer)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection; callers on several threads (the web app) serialize their calls.
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(units)")}
        if "words" not in columns:  # catalogs written before highlights existed
            self._db.execute("ALTER TABLE units ADD COLUMN words BLOB")

    def close(self) -> None:
        self._db.close()

    def get(self, document_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        return _document(row) if row else None

    def at_path(self, path: str) -> list[Document]:
        """Documents ingested from this absolute path (earlier versions of a file)."""
        rows = self._db.execute("SELECT * FROM documents WHERE path = ?", (path,)).fetchall()
        return [_document(r) for r in rows]

    def resolve(self, ref: str) -> Document:
        """Find one document by full id, unique id prefix (>= 6 chars) or source file name."""
        rows = self._db.execute(
            "SELECT * FROM documents WHERE id = ? OR source = ?"
            " OR (length(?) >= 6 AND id LIKE ? ESCAPE '\\')",
            (ref, ref, ref, _like_prefix(ref)),
        ).fetchall()
        if not rows:
            raise DocumentNotFoundError(f"No document matches {ref!r}; `rag list` shows them.")
        if len(rows) > 1:
            ids = ", ".join(r["id"][:12] for r in rows)
            raise DocumentNotFoundError(f"{ref!r} matches several documents ({ids}); give an id.")
        return _document(rows[0])

    def documents(self) -> list[Document]:
        rows = self._db.execute("SELECT * FROM documents ORDER BY added, source").fetchall()
        return [_document(r) for r in rows]

    def start(self, doc: Document) -> None:
        """Record a document as pending (new, or retried after a failure or interruption)."""
        self._db.execute(
            "INSERT INTO documents (id, source, path, media_type, title, status, units, tags,"
            " added, reason) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)"
            " ON CONFLICT(id) DO UPDATE SET source=excluded.source, path=excluded.path,"
            " media_type=excluded.media_type, title=excluded.title, status=excluded.status,"
            " tags=excluded.tags, reason=NULL",
            (
                doc.id,
                doc.source,
                doc.path,
                doc.media_type,
                doc.title,
                Status.PENDING,
                json.dumps(sorted(set(doc.tags))),
                doc.added or time.time(),
            ),
        )

    def add_units(self, document_id: str, units: Iterable[UnitRow]) -> None:
        """Record (index, point id, image key, word boxes) rows; re-adding a row replaces it."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO units (document_id, idx, point_id, image_key, words)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (document_id, i, p, k, zlib.compress(json.dumps(w).encode()) if w else None)
                    for i, p, k, w in units
                ],
            )

    def words(self, document_id: str, index: int) -> list[WordBox]:
        """A unit's text-layer words with page-relative boxes (empty when it has none)."""
        row = self._db.execute(
            "SELECT words FROM units WHERE document_id = ? AND idx = ?", (document_id, index)
        ).fetchone()
        if not row or not row["words"]:
            return []
        return [tuple(w) for w in json.loads(zlib.decompress(row["words"]))]

    def finish(self, document_id: str, units: int) -> None:
        self._db.execute(
            "UPDATE documents SET status = ?, units = ?, reason = NULL WHERE id = ?",
            (Status.DONE, units, document_id),
        )

    def fail(self, doc: Document, reason: str) -> None:
        """Record a failure; the document keeps no units."""
        self.start(doc)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM units WHERE document_id = ?", (doc.id,))
            self._db.execute(
                "UPDATE documents SET status = ?, units = 0, reason = ? WHERE id = ?",
                (Status.FAILED, reason, doc.id),
            )

    def set_tags(self, document_id: str, tags: list[str]) -> None:
        self._db.execute(
            "UPDATE documents SET tags = ? WHERE id = ?", (json.dumps(tags), document_id)
        )

    def point_ids(self, document_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT point_id FROM units WHERE document_id = ? ORDER BY idx", (document_id,)
        ).fetchall()
        return [r["point_id"] for r in rows]

    def image_keys(self, document_id: str) -> set[str]:
        rows = self._db.execute(
            "SELECT DISTINCT image_key FROM units WHERE document_id = ? AND image_key IS NOT NULL",
            (document_id,),
        ).fetchall()
        return {r["image_key"] for r in rows}

    def delete(self, document_id: str) -> set[str]:
        """Remove a document and its units; return the image keys no other document uses."""
        keys = self.image_keys(document_id)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM units WHERE document_id = ?", (document_id,))
            self._db.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        still_used = (
            {
                r["image_key"]
                for r in self._db.execute(
                    f"SELECT DISTINCT image_key FROM units WHERE image_key IN "
                    f"({','.join('?' * len(keys))})",
                    tuple(keys),
                )
            }
            if keys
            else set()
        )
        return keys - still_used

    def copy_to(self, path: Path) -> None:
        """A consistent copy of the whole catalog (SQLite's online backup, WAL included)."""
        target = sqlite3.connect(path)
        try:
            self._db.backup(target)
        finally:
            target.close()

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

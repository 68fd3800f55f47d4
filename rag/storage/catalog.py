"""The catalog: a SQLite file recording documents, their units and ingestion state.

It is the source of truth for *what* was ingested (Qdrant holds the vectors, and can be
rebuilt from the catalog's units and the stored page images). It leaves out vectors and
page text, which live in the store's payloads.

Documents belong to a collection (key: collection + content hash): a file ingested into
one collection is new to another, and deleting it from one leaves it in the other. Page
images are shared: a key is only freed when no unit of any collection uses it.
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
    collection TEXT NOT NULL,       -- the collection the document was ingested into
    id TEXT NOT NULL,               -- sha256 of the file's bytes
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    media_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    units INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]', -- JSON list of strings
    added REAL NOT NULL,
    reason TEXT,
    PRIMARY KEY (collection, id)
);
CREATE TABLE IF NOT EXISTS units (
    collection TEXT NOT NULL,
    document_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    point_id TEXT NOT NULL,
    image_key TEXT,                 -- content address of the rendered image, if any
    words BLOB,                     -- zlib'd JSON [[x0, y0, x1, y1, word], ...] for highlights
    PRIMARY KEY (collection, document_id, idx),
    FOREIGN KEY (collection, document_id) REFERENCES documents(collection, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS units_by_image ON units(image_key);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


UnitRow = tuple[int, str, str | None, list[WordBox]]


def _packed(words: list[WordBox]) -> bytes | None:
    return zlib.compress(json.dumps(words).encode()) if words else None


def _migrate(db: sqlite3.Connection, collection: str) -> None:
    """Catalogs written before documents had a collection: their rows go to `collection`
    (one catalog then served every collection; the one opening it first is the best guess)."""
    columns = {r["name"] for r in db.execute("PRAGMA table_info(documents)")}
    if not columns or "collection" in columns:
        return
    unit_columns = {r["name"] for r in db.execute("PRAGMA table_info(units)")}
    words = "words" if "words" in unit_columns else "NULL"  # before highlights existed
    with db:
        db.execute("BEGIN")
        db.execute("ALTER TABLE documents RENAME TO documents_before")
        db.execute("ALTER TABLE units RENAME TO units_before")
        db.execute("DROP INDEX IF EXISTS units_by_image")
        for statement in filter(str.strip, _SCHEMA.split(";")):  # executescript would commit
            db.execute(statement)
        db.execute(
            "INSERT INTO documents SELECT ?, id, source, path, media_type, title, status, units,"
            " tags, added, reason FROM documents_before",
            (collection,),
        )
        db.execute(
            "INSERT INTO units SELECT ?, document_id, idx, point_id, image_key,"
            f" {words} FROM units_before",
            (collection,),
        )
        db.execute("DROP TABLE units_before")
        db.execute("DROP TABLE documents_before")


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

    def __init__(self, path: Path, collection: str = "pages") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.collection = collection
        # One connection; callers on several threads (the web app) serialize their calls.
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        _migrate(self._db, collection)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, document_id: str) -> Document | None:
        row = self._db.execute(
            "SELECT * FROM documents WHERE collection = ? AND id = ?",
            (self.collection, document_id),
        ).fetchone()
        return _document(row) if row else None

    def at_path(self, path: str) -> list[Document]:
        """Documents ingested from this absolute path (earlier versions of a file)."""
        rows = self._db.execute(
            "SELECT * FROM documents WHERE collection = ? AND path = ?", (self.collection, path)
        ).fetchall()
        return [_document(r) for r in rows]

    def resolve(self, ref: str) -> Document:
        """Find one document by full id, unique id prefix (>= 6 chars) or source file name."""
        rows = self._db.execute(
            "SELECT * FROM documents WHERE collection = ? AND (id = ? OR source = ?"
            " OR (length(?) >= 6 AND id LIKE ? ESCAPE '\\'))",
            (self.collection, ref, ref, ref, _like_prefix(ref)),
        ).fetchall()
        if not rows:
            raise DocumentNotFoundError(f"No document matches {ref!r}; `rag list` shows them.")
        if len(rows) > 1:
            ids = ", ".join(r["id"][:12] for r in rows)
            raise DocumentNotFoundError(f"{ref!r} matches several documents ({ids}); give an id.")
        return _document(rows[0])

    def documents(self) -> list[Document]:
        rows = self._db.execute(
            "SELECT * FROM documents WHERE collection = ? ORDER BY added, source",
            (self.collection,),
        ).fetchall()
        return [_document(r) for r in rows]

    def start(self, doc: Document) -> None:
        """Record a document as pending (new, or retried after a failure or interruption)."""
        self._db.execute(
            "INSERT INTO documents (collection, id, source, path, media_type, title, status,"
            " units, tags, added, reason) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)"
            " ON CONFLICT(collection, id) DO UPDATE SET source=excluded.source, path=excluded.path,"
            " media_type=excluded.media_type, title=excluded.title, status=excluded.status,"
            " tags=excluded.tags, reason=NULL",
            (
                self.collection,
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
                "INSERT OR REPLACE INTO units"
                " (collection, document_id, idx, point_id, image_key, words)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(self.collection, document_id, i, p, k, _packed(w)) for i, p, k, w in units],
            )

    def words(self, document_id: str, index: int) -> list[WordBox]:
        """A unit's text-layer words with page-relative boxes (empty when it has none)."""
        row = self._db.execute(
            "SELECT words FROM units WHERE collection = ? AND document_id = ? AND idx = ?",
            (self.collection, document_id, index),
        ).fetchone()
        if not row or not row["words"]:
            return []
        return [tuple(w) for w in json.loads(zlib.decompress(row["words"]))]

    def finish(self, document_id: str, units: int) -> None:
        self._db.execute(
            "UPDATE documents SET status = ?, units = ?, reason = NULL"
            " WHERE collection = ? AND id = ?",
            (Status.DONE, units, self.collection, document_id),
        )

    def fail(self, doc: Document, reason: str) -> None:
        """Record a failure; the document keeps no units."""
        self.start(doc)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "DELETE FROM units WHERE collection = ? AND document_id = ?",
                (self.collection, doc.id),
            )
            self._db.execute(
                "UPDATE documents SET status = ?, units = 0, reason = ?"
                " WHERE collection = ? AND id = ?",
                (Status.FAILED, reason, self.collection, doc.id),
            )

    def set_tags(self, document_id: str, tags: list[str]) -> None:
        self._db.execute(
            "UPDATE documents SET tags = ? WHERE collection = ? AND id = ?",
            (json.dumps(tags), self.collection, document_id),
        )

    def point_ids(self, document_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT point_id FROM units WHERE collection = ? AND document_id = ? ORDER BY idx",
            (self.collection, document_id),
        ).fetchall()
        return [r["point_id"] for r in rows]

    def image_keys(self, document_id: str) -> set[str]:
        rows = self._db.execute(
            "SELECT DISTINCT image_key FROM units"
            " WHERE collection = ? AND document_id = ? AND image_key IS NOT NULL",
            (self.collection, document_id),
        ).fetchall()
        return {r["image_key"] for r in rows}

    def delete(self, document_id: str) -> set[str]:
        """Remove a document and its units from this collection; return the image keys no
        unit of any collection uses any more."""
        keys = self.image_keys(document_id)
        mine = (self.collection, document_id)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM units WHERE collection = ? AND document_id = ?", mine)
            self._db.execute("DELETE FROM documents WHERE collection = ? AND id = ?", mine)
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

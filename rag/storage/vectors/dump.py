"""Points with their vectors as JSON lines: the store-independent part of a backup.

A server collection cannot be copied as files from here (a cluster spreads its shards
over nodes, each with its own snapshot), so a backup reads every point back and writes
it as one JSON line; restore upserts them into a new collection of any engine, any
shard layout. Vectors travel as base64 float32 (about a third of the size of JSON
numbers); nothing is unpickled, so a hostile backup can only carry wrong numbers.
"""

import base64
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.vectors import SparseVector
from rag.storage.vectors.base import PointRecord


def encode(point: PointRecord) -> str:
    dense = {}
    for name, vector in point.dense.items():
        array = np.asarray(vector, dtype="<f4")
        dense[name] = {"shape": list(array.shape), "f32": base64.b64encode(array).decode()}
    sparse = (
        {"indices": point.sparse.indices, "values": point.sparse.values} if point.sparse else None
    )
    return json.dumps({"id": point.id, "payload": point.payload, "dense": dense, "sparse": sparse})


def decode(line: str) -> PointRecord:
    row: dict[str, Any] = json.loads(line)
    dense = {}
    for name, packed in row["dense"].items():
        array = np.frombuffer(base64.b64decode(packed["f32"]), dtype="<f4")
        dense[name] = array.reshape(packed["shape"]).tolist()
    sparse = row.get("sparse")
    return PointRecord(
        id=str(row["id"]),
        dense=dense,
        sparse=SparseVector(list(sparse["indices"]), list(sparse["values"])) if sparse else None,
        payload=dict(row.get("payload") or {}),
    )


def write_chunk(path: Path, points: Iterable[PointRecord]) -> None:
    """Write points to a gzipped JSON-lines file."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for point in points:
            out.write(encode(point) + "\n")


def read_chunks(paths: Iterable[Path], batch: int = 64) -> Iterator[list[PointRecord]]:
    """Points of the chunk files, in batches for upserting."""
    pending: list[PointRecord] = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                pending.append(decode(line))
                if len(pending) == batch:
                    yield pending
                    pending = []
    if pending:
        yield pending

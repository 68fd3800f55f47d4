"""Which files an ingest takes, and the identity of a file's content.

Folders are walked recursively (sorted, hidden entries skipped) and filtered by globs;
a document's id is the sha256 of its bytes, so the same content under two names is
one document.
"""

import hashlib
from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from pathlib import Path


def discover(
    paths: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Path]:
    """Files named, and files under folders named (recursive, sorted, hidden ones skipped).

    Under folders, `include` globs (any must match) and `exclude` globs (none may) are
    matched against the path relative to the folder: `*.pdf`, `slides/**`, `*draft*`.
    Files named directly are always taken.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for p in sorted(path.rglob("*")):
            relative = p.relative_to(path)
            if not p.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            if include and not _matches(relative, include):
                continue
            if not _matches(relative, exclude):
                found.append(p)
    return found


def _matches(relative: Path, globs: Sequence[str]) -> bool:
    """Whether a glob matches the path under its folder or the bare file name."""
    name = relative.as_posix()
    return any(fnmatch(name, g) or fnmatch(relative.name, g) for g in globs)


def sha256_file(path: Path) -> str:
    """The document id of a file: the sha256 of its bytes, read a MiB at a time."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""Which files an ingest takes, and the identity of a file's content.

Folders are walked recursively (sorted, hidden entries skipped, links reported and not
followed unless asked) and filtered by globs;
a document's id is the sha256 of its bytes, so the same content under two names is
one document.
"""

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from rag.core.records import FileOutcome

LINK_NOT_FOLLOWED = "a symbolic link; --follow-links follows it"


@dataclass
class Discovered:
    """The files to ingest, in order, and what was done with symbolic links."""

    files: list[Path] = field(default_factory=list)
    skipped_links: list[Path] = field(default_factory=list)  # under folders, not followed
    followed_links: dict[Path, Path] = field(default_factory=dict)  # link -> its target

    def outcomes(self) -> list[FileOutcome]:
        """A skipped outcome per link left alone, for the report."""
        return [
            FileOutcome(str(p), "skipped", reason=LINK_NOT_FOLLOWED) for p in self.skipped_links
        ]


def discover(
    paths: Iterable[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_links: bool = False,
) -> Discovered:
    """Files named, and files under folders named (recursive, sorted, hidden ones skipped).

    Under folders, `include` globs (any must match) and `exclude` globs (none may) are
    matched against the path relative to the folder: `*.pdf`, `slides/**`, `*draft*`.
    Files named directly are always taken, through a link too (reported). Links under
    folders, to files or folders, are skipped and reported unless `follow_links`: a
    `passwd.txt -> /etc/passwd` inside a downloaded folder must not become searchable.
    """
    found = Discovered()
    for path in paths:
        if path.is_symlink():  # named by the user: followed, and reported
            found.followed_links[path] = path.resolve()
        if not path.is_dir():
            found.files.append(path)
            continue
        for p in _walk(path, follow_links):
            relative = p.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if include and not _matches(relative, include):
                continue
            if _matches(relative, exclude):
                continue
            if p.is_symlink():
                if not follow_links:
                    found.skipped_links.append(p)
                    continue
                found.followed_links[p] = p.resolve()
            if p.is_file():
                found.files.append(p)
    return found


def _walk(folder: Path, follow_links: bool) -> list[Path]:
    """Every entry under `folder`, sorted; linked folders are entered only when following
    links, and each real folder once (a link loop ends)."""
    entries: list[Path] = []
    seen: set[Path] = set()
    for top, dirs, files in os.walk(folder, followlinks=follow_links):
        real = Path(top).resolve()
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        for name in dirs:
            link = Path(top) / name
            if link.is_symlink() and not follow_links:
                entries.append(link)
        entries += [Path(top) / name for name in files]
    return sorted(entries)


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

"""Uploads kept under the data directory (`uploads/<content hash>/<file name>`), so a
document added through the web app can be re-ingested after the browser's copy is gone.

Removing one is checked: the path comes from the catalog, which could have been edited,
so only a file at exactly that shape under the resolved uploads folder is deleted.
"""

import re
import shutil
from pathlib import Path

from rag.core.errors import StoreError

FOLDER = re.compile(r"[0-9a-f]{16}")  # the first 16 hex digits of the content hash


class KeptUploads:
    def __init__(self, root: Path) -> None:
        self.root = root

    def keep(self, upload: Path, content_hash: str) -> Path:
        """Copy an upload in (once per content); returns the kept path."""
        target = self.root / content_hash[:16] / Path(upload.name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copyfile(upload, target)
        return target

    def holds(self, path: Path) -> bool:
        """Whether `path` claims to be a kept upload (it names the uploads folder)."""
        return path.is_relative_to(self.root) or path.resolve().is_relative_to(self.root.resolve())

    def remove(self, path: Path) -> None:
        """Delete a kept upload and its folder; anything not shaped like one is refused."""
        root = self.root.resolve()
        folder = path.parent
        if not (
            folder.parent.resolve() == root
            and FOLDER.fullmatch(folder.name)
            and not folder.is_symlink()
            and path.name not in ("", ".", "..")
        ):
            raise StoreError(
                f"Refused to delete {path}: it is not a kept upload under {self.root}"
                " (the catalog may have been edited)."
            )
        shutil.rmtree(folder, ignore_errors=True)

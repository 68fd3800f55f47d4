"""Page images stored content-addressed (sha256 of the encoded bytes) as WebP or JPEG.

Identical pages (blank pages, repeated slides) are stored once; the catalog counts who
uses which key, so deleting one document never removes another's images.
"""

import hashlib
import io
import os
import re
from pathlib import Path

from PIL import Image

from rag.core.errors import StoreError

STORED_FORMATS = ["JPEG", "WEBP", "PNG"]  # what we write, plus PNG for images given to us
KEY = re.compile(r"[0-9a-f]{64}\.(jpg|webp|png)")  # `put`'s keys; nothing else names a file


def open_stored(path: Path) -> Image.Image:
    """A stored page image, decoded as RGB; only our own formats are accepted."""
    with Image.open(path, formats=STORED_FORMATS) as img:
        return img.convert("RGB")


def encode_image(image: Image.Image, fmt: str, quality: int) -> bytes:
    """The stored form of an image (distributed workers make it, the driver stores it)."""
    buf = io.BytesIO()
    if fmt == "webp":
        image.save(buf, "WEBP", quality=quality, method=0)  # method 0: fastest encoder
    else:
        image.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


class ImageStore:
    def __init__(self, root: Path, fmt: str = "jpeg", quality: int = 80) -> None:
        self.root = root
        self.fmt = fmt
        self.quality = quality

    def path(self, key: str) -> Path:
        """Where a key's image lives; a key that is not a content hash (an edited catalog
        or payload) names no file, so it can never point outside the image folder."""
        if not KEY.fullmatch(key):
            raise StoreError(f"{key!r} is not a page-image key; the catalog may be damaged.")
        return self.root / key[:2] / key

    def find(self, key: str | None) -> Path | None:
        """The image of a key read from the store, or None (no key, or not a real key)."""
        return self.path(key) if key and KEY.fullmatch(key) else None

    def encode(self, image: Image.Image) -> bytes:
        """The bytes `put` stores for this image (loaders encode, the writer puts)."""
        return encode_image(image, self.fmt, self.quality)

    def save(self, image: Image.Image) -> str:
        """Encode and store an image; returns its key (`<sha256>.<ext>`)."""
        return self.put(self.encode(image))

    def put(self, data: bytes) -> str:
        """Store encoded bytes under their content hash; returns the key."""
        key = f"{hashlib.sha256(data).hexdigest()}.{'webp' if self.fmt == 'webp' else 'jpg'}"
        path = self.path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: readers never see half an image
        return key

    def delete(self, keys: set[str]) -> list[str]:
        """Remove the images of `keys`; returns the keys refused as not page-image keys."""
        refused = sorted(k for k in keys if not KEY.fullmatch(k))
        for key in set(keys) - set(refused):
            self.path(key).unlink(missing_ok=True)
        return refused

    def keys(self) -> set[str]:
        """Every stored key (used by consistency checks)."""
        return {p.name for p in self.root.glob("*/*") if not p.name.endswith(".tmp")}

"""Images users search with (screenshots, photos): opened defensively.

Known formats only (a disguised file is refused), a pixel cap below Pillow's own bomb
check, and errors as one clear line.
"""

from pathlib import Path

from PIL import Image

from rag.core.errors import QueryError

QUERY_IMAGE_FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]
QUERY_IMAGE_MAX_PIXELS = 50_000_000  # a screenshot or a photo, not a decompression bomb


def load_query_image(path: Path) -> Image.Image:
    """Open an image a user searches with: known formats only, bounded size, clear errors."""
    try:
        with Image.open(path, formats=QUERY_IMAGE_FORMATS) as img:
            if img.width * img.height > QUERY_IMAGE_MAX_PIXELS:
                raise QueryError(f"{path.name} is {img.width}x{img.height} pixels; too large.")
            return img.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise QueryError(f"Cannot read {path.name} as an image ({exc}).") from exc

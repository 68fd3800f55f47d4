"""Image files (PNG, JPEG, WebP, TIFF, GIF) as units: one per frame, EXIF orientation applied.

Opened with the format the content was sniffed as (a disguised file is refused) and a
pixel limit enforced as an error (Pillow only warns between 1x and 2x its limit). Text
is empty until OCR arrives (the `media` extra); in the lite profile such units are stored
and listed but only the qwen3-vl profile can find them by content.
"""

import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence

from ingest.loaders.base import LoaderOptions, OpenedSource
from rag.core.errors import CorruptFileError, TooLargeError, first_line
from rag.core.records import Modality, Unit

PIL_FORMATS = {  # media type -> the one Pillow plugin allowed to open it
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
}
MAX_FRAMES = 500


def open_image(path: Path, options: LoaderOptions, media_type: str) -> OpenedSource:
    limit = options.max_image_pixels
    Image.MAX_IMAGE_PIXELS = limit  # Pillow's own bomb check then fires at our limit, too
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path, formats=[PIL_FORMATS[media_type]])
            if img.width * img.height > limit:
                raise TooLargeError(
                    f"{img.width}x{img.height} pixels is over {limit:,} (RAG_MAX_IMAGE_PIXELS)"
                )
            frames = getattr(img, "n_frames", 1)
            img.load()
    except TooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLargeError(
            f"the image is over the pixel limit of {limit:,} (RAG_MAX_IMAGE_PIXELS)"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptFileError(f"not a readable image ({first_line(exc)})") from exc
    if frames > MAX_FRAMES:
        raise TooLargeError(f"{frames} frames is over the limit of {MAX_FRAMES}")

    def units() -> Iterator[Unit]:
        try:
            for i, frame in enumerate(ImageSequence.Iterator(img)):
                yield Unit(i, Modality.IMAGE, "", ImageOps.exif_transpose(frame.convert("RGB")))
        finally:
            img.close()

    return OpenedSource(title=path.stem, unit_count=frames, units=units())

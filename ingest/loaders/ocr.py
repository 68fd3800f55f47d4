"""Text for pages that have none (scans, photos of pages, slides as pictures): RapidOCR.

RapidOCR bundles PP-OCR models as ONNX files inside its wheel, so it runs offline on
CPU (about 0.6 s a slide, 4 s a dense page on 2 cores). The lite profile needs it: its
embedder reads text only; qwen3-vl reads the page image itself.
"""

from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

from rag.core.errors import MissingExtraError

PARAMS = {
    "Global.use_cls": False,  # its 180-degree guess flipped a line of our upright sample scan
    "Global.log_level": "error",  # not an INFO line per model on every run
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}


def available() -> bool:
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=2)
def _engine(threads: int) -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise MissingExtraError("OCR needs the ocr extra: pip install 'mmrag[ocr]'") from exc
    return RapidOCR(params=PARAMS | {"EngineConfig.onnxruntime.intra_op_num_threads": threads})


def read_text(image: Image.Image, threads: int = 1) -> str:
    """The text RapidOCR finds, in its reading order, one line per detected line."""
    result = _engine(threads)(np.asarray(image.convert("RGB")))
    return "\n".join(t for t in (result.txts or ()) if t.strip())

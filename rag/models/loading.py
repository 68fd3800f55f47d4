"""Loading a Qwen3-VL-class sentence-transformers model (embedder or reranker) one way.

Applies the load fixes, picks device and dtype (bf16 on CUDA, float32 on CPU), caps the
processor's resize at the visual-token budget, and turns any failure into a `ModelError`
that names the setting to change.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from rag.core.errors import ModelError, first_line
from rag.models.qwen_compat import prepare_qwen3_vl_loading
from rag.models.resolve import pick_device, resolve_model

PIXELS_PER_TOKEN = 32 * 32  # Qwen-VL: 16 px patches merged 2x2 into one visual token
M = TypeVar("M")


def model_kwargs(device: str) -> dict[str, Any]:
    import torch

    return {"dtype": torch.bfloat16 if device.startswith("cuda") else torch.float32}


def processor_kwargs(max_tokens: int) -> dict[str, Any]:
    """Cap the processor's own resize at the same budget (query images, direct calls)."""
    return {
        "size": {
            "shortest_edge": 4 * PIXELS_PER_TOKEN,
            "longest_edge": max_tokens * PIXELS_PER_TOKEN,
        }
    }


def load_vlm(
    factory: Callable[..., M],
    model: str,
    device: str | None,
    max_visual_tokens: int,
    role: str,
    hint: str,
    **extra: Any,
) -> M:
    """`factory(model, ...)` (SentenceTransformer or CrossEncoder) with our load settings."""
    prepare_qwen3_vl_loading()
    dev = pick_device(device)
    try:
        return factory(
            resolve_model(model),
            device=dev,
            model_kwargs=model_kwargs(dev),
            processor_kwargs=processor_kwargs(max_visual_tokens),
            **extra,
        )
    except Exception as exc:
        raise ModelError(f"Cannot load the {role} {model!r}: {first_line(exc)}. {hint}") from exc

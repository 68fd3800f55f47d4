"""Two load-time fixes that let Qwen3-VL sentence-transformers checkpoints load on any stack.

1. Without torchvision (the CPU torch wheels here cannot use it), transformers cannot build
   Qwen3-VL's video processor, and `Qwen3VLProcessor` lists it as required, so every
   Qwen3-VL checkpoint fails to load. We narrow the processor to image + text; video input
   then fails with a clear message. With torchvision installed this does nothing.
2. The hub checkpoints were integrated with sentence-transformers 5.4, which saved a
   top-level `message_format` in `sentence_bert_config.json`; 6.x expects it inside
   `modality_config["message"]` and rejects the old key. We move it at load time.

Both patch classes, not files, so they also work for real checkpoints; both are idempotent.
"""

from typing import Any


def make_image_only_processor_loadable() -> bool:
    """Let `Qwen3VLProcessor` load image + text only when torchvision is missing."""
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        return False
    from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor
    from transformers.processing_utils import ProcessorMixin

    if getattr(Qwen3VLProcessor, "_image_only_patch", False):
        return True

    def get_attributes(cls: type) -> list[str]:
        base = ProcessorMixin.get_attributes.__func__(cls)  # type: ignore[attr-defined]
        return [a for a in base if a != "video_processor"]

    original_call = Qwen3VLProcessor.__call__

    def __call__(self: Any, images: Any = None, text: Any = None, videos: Any = None, **kw: Any):
        if videos is not None and getattr(self, "video_processor", None) is None:
            raise ValueError(
                "This Qwen3-VL processor was loaded image-only (torchvision is not installed),"
                " so video inputs are not supported; install torchvision for video."
            )
        return original_call(self, images=images, text=text, videos=videos, **kw)

    Qwen3VLProcessor.get_attributes = classmethod(get_attributes)  # type: ignore[method-assign]
    Qwen3VLProcessor.__call__ = __call__  # type: ignore[method-assign]
    Qwen3VLProcessor._image_only_patch = True  # type: ignore[attr-defined]
    return True


def make_st54_configs_loadable() -> bool:
    """Let sentence-transformers 6.x read Transformer configs saved by 5.4."""
    from sentence_transformers.base.modules.transformer import Transformer

    if getattr(Transformer, "_st54_config_patch", False):
        return True
    original = Transformer.load_config.__func__  # type: ignore[attr-defined]

    def load_config(cls: type, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(cls, *args, **kwargs)
        message_format = config.pop("message_format", None)
        message_entry = (config.get("modality_config") or {}).get("message")
        if message_format is not None and isinstance(message_entry, dict):
            message_entry.setdefault("format", message_format)
        return config

    Transformer.load_config = classmethod(load_config)  # type: ignore[method-assign]
    Transformer._st54_config_patch = True  # type: ignore[attr-defined]
    return True


def prepare_qwen3_vl_loading() -> dict[str, bool]:
    """Apply both fixes; call before `SentenceTransformer(...)` / `CrossEncoder(...)`."""
    return {
        "image_only_processor": make_image_only_processor_loadable(),
        "st54_configs": make_st54_configs_loadable(),
    }

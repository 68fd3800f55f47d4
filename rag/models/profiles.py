"""Model profiles: which embedder (and reranker) a run uses, and why that one was chosen.

- `lite`: text layer + a small text embedder + BM25; runs on any CPU, offline.
- `qwen3-vl`: page images through a vision-language embedder + BM25, then a multimodal
  reranker; meant for a GPU (it runs on CPU too, slowly).
- `auto`: qwen3-vl where CUDA is present and its models resolve, else lite; the choice
  and its reason are reported by `rag status` and the API.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from rag.core.config import Profile, Settings
from rag.models.embedder import Embedder, TextEmbedder
from rag.models.reranker import CrossEncoderReranker, Reranker


@dataclass(frozen=True)
class ProfileChoice:
    profile: Profile
    reason: str

    @property
    def reads_images(self) -> bool:
        """Whether this profile's embedder reads page images (lite reads text only); for
        callers that decide before the embedder is loaded, such as the Ray driver."""
        return self.profile is Profile.QWEN3_VL


def model_resolves(ref: str) -> bool:
    """A local model directory, a hub id in the local cache, or a hub that may be reached."""
    if Path(ref).is_dir():
        return True
    if os.environ.get("HF_HUB_OFFLINE", "0") in ("0", "", "false", "False"):
        return True
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(ref, "config.json"), str)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_profile(settings: Settings) -> ProfileChoice:
    if settings.profile is not Profile.AUTO:
        return ProfileChoice(settings.profile, f"{settings.profile}, as configured")
    if not _cuda():
        return ProfileChoice(Profile.LITE, "auto: no CUDA device, so the lite profile")
    missing = [m for m in (settings.visual_model, settings.rerank_model) if not model_resolves(m)]
    if missing:
        return ProfileChoice(
            Profile.LITE, f"auto: CUDA present but {missing} not available offline"
        )
    return ProfileChoice(Profile.QWEN3_VL, "auto: CUDA present and the Qwen3-VL models resolve")


def build_embedder(settings: Settings, choice: ProfileChoice) -> Embedder:
    """The embedder of a profile (loads model weights: seconds)."""
    if choice.profile is Profile.QWEN3_VL:
        from rag.models.visual import VisualEmbedder

        return VisualEmbedder(
            settings.visual_model,
            device=settings.device,
            max_visual_tokens=settings.visual_max_tokens,
            pixel_budget=settings.embed_pixel_budget,
            dim=settings.visual_dim,
        )
    return TextEmbedder(
        settings.text_model,
        device=settings.device,
        passage_words=settings.passage_words,
        passage_overlap=settings.passage_overlap,
        batch_size=settings.embed_batch_size,
        runtime=settings.embed_runtime,
        int8=settings.embed_int8,
        cache_dir=settings.models_path,
    )


def build_reranker(settings: Settings, choice: ProfileChoice) -> Reranker | None:
    """The profile's reranker, or None (lite has none: no cross-encoder ships offline)."""
    if choice.profile is not Profile.QWEN3_VL or not settings.rerank:
        return None
    return CrossEncoderReranker(
        settings.rerank_model,
        device=settings.device,
        max_visual_tokens=settings.visual_max_tokens,
        pixel_budget=settings.embed_pixel_budget,
    )


# Dense similarity below which a hit is "not in the documents", per profile, calibrated by
# `rag eval` on eval/questions.jsonl (docs/benchmarks.md). None: not calibrated, nothing dropped.
# lite (MiniLM, int8 in ONNX Runtime): `rag eval` calibrated 0.4195 (44/45 answerable kept,
# 2/4 unanswerable refused, hybrid-rrf); 0.415 sits midway between the highest refused top
# hit (0.4099) and the lowest kept one. fp32 MiniLM calibrated 0.401.
CALIBRATED_MIN_RELEVANCE = {Profile.LITE: 0.415, Profile.QWEN3_VL: None}


def min_relevance(settings: Settings, choice: ProfileChoice) -> float | None:
    """The configured threshold, else the profile's calibrated one."""
    if settings.min_relevance is not None:
        return settings.min_relevance
    return CALIBRATED_MIN_RELEVANCE.get(choice.profile)

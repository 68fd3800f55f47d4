"""Model profiles: which embedder a run uses, and why that one was chosen.

`auto` takes the best profile this installation can run. Only `lite` is wired in this
version; asking for `qwen3-vl` explicitly is refused with a clear message rather than
silently running something else.
"""

from dataclasses import dataclass

from rag.config import Profile, Settings
from rag.errors import ConfigError
from rag.models.embedder import Embedder, TextEmbedder


@dataclass(frozen=True)
class ProfileChoice:
    profile: Profile
    reason: str


def choose_profile(settings: Settings) -> ProfileChoice:
    if settings.profile is Profile.QWEN3_VL:
        raise ConfigError(
            "The qwen3-vl profile is not available in this version of mmrag; use"
            " RAG_PROFILE=lite (or auto)."
        )
    if settings.profile is Profile.AUTO:
        return ProfileChoice(Profile.LITE, "auto: lite is the profile this version runs")
    return ProfileChoice(Profile.LITE, "lite, as configured")


def build_embedder(settings: Settings, choice: ProfileChoice) -> Embedder:
    """The embedder of a profile (loads model weights: seconds on CPU)."""
    return TextEmbedder(
        settings.text_model,
        device=settings.device,
        passage_words=settings.passage_words,
        passage_overlap=settings.passage_overlap,
        batch_size=settings.embed_batch_size,
    )

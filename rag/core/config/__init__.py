"""Configuration: the `Settings` object and the closed choices it offers."""

from rag.core.config.areas import Fusion, Profile, Retrievers
from rag.core.config.settings import AREAS, Settings

__all__ = ["AREAS", "Fusion", "Profile", "Retrievers", "Settings"]

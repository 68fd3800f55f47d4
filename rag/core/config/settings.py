"""Settings: one object, read from `RAG_*` environment variables (and `.env`), overridable
by CLI flags and by keyword arguments in tests and the Python API.

It holds values only; resolving a model reference or opening a store happens where
they are used. The fields are declared by area in `areas.py`.
"""

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.core.config.areas import (
    GeneratorSettings,
    IngestSettings,
    ModelSettings,
    SearchSettings,
    StoreSettings,
    UiSettings,
)
from rag.core.errors import ConfigError

AREAS = (
    StoreSettings,
    ModelSettings,
    IngestSettings,
    SearchSettings,
    GeneratorSettings,
    UiSettings,
)


class Settings(*AREAS, BaseSettings):
    """Every tunable of mmrag, with the reason for each default."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_file=None,  # only the data directory's or an explicit one: see `load`
        extra="ignore",
        validate_default=True,
        allow_inf_nan=False,  # RAG_MIN_RELEVANCE=nan silently made every search empty
    )

    @classmethod
    def load(cls, base: "Settings | None" = None, **overrides: Any) -> "Settings":
        """Settings from the environment (or `base`) plus overrides; a bad value is a
        `ConfigError` naming its variable, not a validation traceback."""
        try:
            if base is None:
                return cls._from_environment(overrides)
            return cls.model_validate({**base.model_dump(), **overrides})
        except ValidationError as exc:
            problems = "; ".join(
                f"RAG_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"Invalid setting(s): {problems}.") from exc

    @classmethod
    def _from_environment(cls, overrides: dict[str, Any]) -> "Settings":
        """Variables and overrides, then the settings file they name (RAG_ENV_FILE) or the
        data directory's `.env`; `env_file` records the file that was read, if any."""
        first = cls(**overrides)
        chosen = first.env_file
        if chosen is None and (first.data_dir / ".env").is_file():
            chosen = first.data_dir / ".env"
        if chosen is None:
            return first
        if not chosen.is_file():
            raise ConfigError(f"RAG_ENV_FILE: {chosen} is not a file.")
        loaded = cls(_env_file=chosen, **overrides)  # variables still win over the file
        return loaded.model_copy(update={"env_file": chosen})

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def models_path(self) -> Path:
        """Where derived models are cached: `models_dir`, else DATA_DIR/models."""
        return self.models_dir or self.data_dir / "models"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

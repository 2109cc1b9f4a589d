"""Service settings, read from ``MEDNET_*`` environment variables when asked for.

    >>> Settings(regions_dir="data/regions").regions_dir.name
    'regions'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mednet.regions import regions_dir


class Settings(BaseSettings):
    """What the service serves; every field can be set as ``MEDNET_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MEDNET_", frozen=True, extra="ignore")

    regions_dir: Path | None = Field(
        None, description="folder of region files to serve; default: the bundled data/regions"
    )

    allow_invalid: bool = Field(
        False, description="serve regions whose validation has errors (refused by default)"
    )

    def region_folder(self) -> Path:
        return self.regions_dir or regions_dir()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once (not at import time)."""
    return Settings()

"""Service settings, read from ``MEDNET_*`` environment variables when asked for.

    >>> Settings(regions_dir="data/regions").regions_dir.name
    'regions'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mednet.ledger.store import default_data_dir
from mednet.regions import regions_dir


class Settings(BaseSettings):
    """What the service serves; every field can be set as ``MEDNET_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MEDNET_", frozen=True, extra="ignore")

    regions_dir: Path | None = Field(
        None, description="folder of region files to serve; default: the bundled data/regions"
    )

    database_url: str | None = Field(
        None, description="the ledger's PostgreSQL database (postgresql://user@host:port/db); default: a SQLite "
        "file `ledger.sqlite3` in `data_dir`"
    )
    data_dir: Path | None = Field(
        None, description="the service's data folder (the SQLite ledger); default: $XDG_DATA_HOME/mednet or "
        "~/.local/share/mednet"
    )
    reads_need_key: bool = Field(False, description="routing and directory reads need an API key too (any "
                                 "role); by default they stay open")
    hold_minutes: float = Field(15, gt=0, le=24 * 60, description="how long a slot hold lasts")
    session_slots: int = Field(4, ge=1, le=200, description="bookable units a session gives where its region "
                               "does not count them (weekly_slots)")

    def region_folder(self) -> Path:
        return self.regions_dir or regions_dir()

    def data_folder(self) -> Path:
        return self.data_dir or default_data_dir()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once (not at import time)."""
    return Settings()

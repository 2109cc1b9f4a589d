"""Service settings, read from ``MEDNET_*`` environment variables when asked for.

Every limit has a safe default for a hospital intranet; set
``MEDNET_<FIELD>`` (e.g. ``MEDNET_MAX_BODY_BYTES=131072``) to change it.

    >>> Settings(regions_dir="data/regions").regions_dir.name
    'regions'
    >>> Settings().max_body_bytes
    65536
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mednet.ledger.store import default_data_dir
from mednet.regions import regions_dir


class Settings(BaseSettings):
    """What the service serves and the limits it keeps; every field can be set as ``MEDNET_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MEDNET_", frozen=True, extra="ignore")

    regions_dir: Path | None = Field(
        None, description="folder of region files to serve; default: the bundled data/regions"
    )
    max_body_bytes: int = Field(64 * 1024, gt=0, description="largest request body; larger ones are answered 413")
    max_attachment_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest file attached to a referral "
                                      "(PDF, PNG, JPEG); an upload's body may be this plus 64 KiB")
    max_header_bytes: int = Field(16 * 1024, gt=0, description="largest request line and headers together; "
                                  "larger ones are answered 431 and the connection closed")
    header_timeout_s: float = Field(10.0, gt=0, description="seconds a client may take to send a request's line "
                                    "and headers (from its first byte, or from connecting); then 408 and close")
    body_timeout_s: float = Field(10.0, gt=0, description="seconds a client may take to send a request's body; "
                                  "then 408 and close")
    idle_timeout_s: int = Field(5, gt=0, description="seconds an idle keep-alive connection is kept open")
    max_concurrency: int = Field(256, gt=0, description="requests handled at once per worker; more are "
                                 "answered 503 with Retry-After")
    heavy_processes: int = Field(1, ge=0, description="processes per worker for slow work (coverage, validation), "
                                 "forked from the worker once its regions are loaded and run `heavy_nice` steps "
                                 "below it; 0: threads of the worker instead (`heavy_threads`), as off Linux")
    heavy_threads: int = Field(1, gt=0, description="with `heavy_processes` 0: threads per worker for slow work, "
                               "off the event loop but sharing the worker's CPU and Python's global lock")
    heavy_nice: int = Field(10, ge=0, le=19, description="how far below the worker's priority its slow-work "
                            "processes run (a nice value): the desk's requests get the CPU first")
    heavy_queue: int = Field(8, ge=0, description="slow requests waiting for a thread per worker; more are "
                             "answered 503 with Retry-After")
    heavy_cache_entries: int = Field(64, ge=0, description="slow answers kept per worker, by their parameters")
    allowed_hosts: str = Field("", description="comma-separated host names the service answers for (the `Host` "
                               "a request names), besides localhost, the loopback addresses and the address it is "
                               "bound to (bound to every address: any IP address); `*`: any host. Others are "
                               "answered 400 (DNS rebinding)")
    access_log: bool = Field(True, description="log one structured line per request")

    database_url: str | None = Field(
        None, description="the ledger's PostgreSQL database (postgresql://user@host:port/db); default: a SQLite "
        "file `ledger.sqlite3` in `data_dir`"
    )
    data_dir: Path | None = Field(
        None, description="the service's data folder (the SQLite ledger); default: $XDG_DATA_HOME/mednet or "
        "~/.local/share/mednet"
    )
    db_pool_size: int | None = Field(None, gt=0, le=1000, description="connections each worker keeps to the "
                                     "ledger's database, and never more; default: one per thread of its thread "
                                     "pool (40) and two more, so that none is opened per request under load")
    reads_need_key: bool = Field(False, description="routing and directory reads need an API key too (any "
                                 "role); by default they stay open")
    hold_minutes: float = Field(15, gt=0, le=24 * 60, description="how long a slot hold lasts")
    session_slots: int = Field(4, ge=1, le=200, description="bookable units a session gives where its region "
                               "does not count them (weekly_slots): an assumption, said in each such slot's basis")
    expire_days: float = Field(30, gt=0, le=3650, description="days an open referral may stay unchanged (a booked "
                               "one: past its booked day) before the expiry sweep expires it")
    live_poll_seconds: float = Field(1.0, gt=0, le=60, description="SQLite: seconds between the reads of the "
                                     "ledger's change counter that bring open worklists their live changes (one read "
                                     "per worker; PostgreSQL is told at once by LISTEN/NOTIFY)")
    sweep_seconds: float = Field(60, ge=0, description="seconds between expiry sweeps (lapsed holds released, "
                                 "overdue referrals expired); 0 turns the sweep off (then run `mednet referrals "
                                 "expire` from cron)")
    desk_idle_minutes: float = Field(30, gt=0, le=24 * 60, description="minutes a signed-in desk page session "
                                     "lasts without use; then the desk signs in again")
    allow_invalid: bool = Field(
        False, description="serve regions whose validation has errors (refused by default)"
    )

    def region_folder(self) -> Path:
        return self.regions_dir or regions_dir()

    def data_folder(self) -> Path:
        return self.data_dir or default_data_dir()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once (not at import time)."""
    return Settings()

"""Running the service under uvicorn with the settings' limits (what ``mednet serve`` calls).

The port is bound at once; each worker checks the region files, then builds
the routers in the background and answers ``/ready`` 503 until done (see
:mod:`service.deps`). The routing kernel is compiled by one worker and
loaded from numba's on-disk cache by the others. Ctrl-C at any moment ends
the server without a traceback.
"""

from __future__ import annotations

import copy
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from service.config import get_settings

APP = "service.app:create_app"
#: Imported by each worker by name, inside uvicorn's start-up (where Ctrl-C is handled).
PROTOCOL = "service.protocol:GuardedHttp"
#: Seconds a worker may take to answer its supervisor (see :func:`uvicorn_options`).
WORKER_START_S = 60


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the service's own loggers (start-up, problems, the access line)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def uvicorn_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """The options of ``uvicorn.run`` for these settings (limits from ``MEDNET_*``)."""
    settings = get_settings()
    return dict(
        factory=True, host=host, port=port, workers=workers, http=PROTOCOL,
        timeout_keep_alive=settings.idle_timeout_s, server_header=False,
        # a worker answers the supervisor's health checks once started; on a busy machine starting (imports)
        # can take longer than uvicorn's default 5 s, and a worker killed then only starts again from scratch
        timeout_worker_healthcheck=WORKER_START_S,
        access_log=False,  # the service logs its own structured line per request
        log_config=log_config(), log_level="info",
    )


def serve(*, host: str, port: int, workers: int) -> None:
    """Run the service until interrupted."""
    uvicorn.run(APP, **uvicorn_options(host=host, port=port, workers=workers))

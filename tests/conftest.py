"""Fixtures shared across the test suite: the Quzhou region, its network and its router (built once)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

import pytest

from mednet.network import build_network
from mednet.regions import load_region
from mednet.routing import Router


def pytest_configure(config):
    """The service's data folder (its SQLite ledger) in a temporary folder, never the user's own."""
    if "MEDNET_DATA_DIR" not in os.environ:
        config._mednet_data_dir = tempfile.mkdtemp(prefix="mednet-test-data-")
        os.environ["MEDNET_DATA_DIR"] = config._mednet_data_dir


def pytest_unconfigure(config):
    folder = getattr(config, "_mednet_data_dir", None)
    if folder:
        os.environ.pop("MEDNET_DATA_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


#: The loggers ``mednet serve`` configures (``service.server.log_config``).
SERVED_LOGGERS = ("service", "service.access", "uvicorn", "uvicorn.error", "uvicorn.access")


#: A 人口 sheet with illustrative figures (not published statistics) for four townships of Quzhou's counties.
POPULATION_SHEET = ("区县,乡镇/街道,常住人口,年份,来源\n开化县,华埠镇,41000,2020,示例数字\n"
                    "江山市,峡口镇,30000,2020,示例数字\n衢江区,杜泽镇,25000,2020,示例数字\n"
                    "开化县,齐溪镇,9000,2020,示例数字\n")


@pytest.fixture
def population_sheet(tmp_path):
    """:data:`POPULATION_SHEET` written as a CSV file named 人口.csv."""
    path = tmp_path / "人口.csv"
    path.write_text(POPULATION_SHEET, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _served_logging_restored():
    """Each test leaves the served loggers as it found them: a test that runs ``mednet serve`` in process binds
    their handlers to its own captured stderr, which is closed after it (an app kept across tests would then write
    its access lines to a closed stream)."""
    loggers = [logging.getLogger(name) for name in SERVED_LOGGERS]
    saved = [(list(log.handlers), log.level, log.propagate, log.disabled) for log in loggers]
    yield
    for log, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
        log.handlers[:] = handlers
        log.setLevel(level)
        log.propagate, log.disabled = propagate, disabled


@pytest.fixture(scope="session")
def quzhou():
    return load_region("quzhou")


@pytest.fixture(scope="session")
def quzhou_graph(quzhou):
    return build_network(quzhou)


@pytest.fixture(scope="session")
def quzhou_router(quzhou_graph):
    return Router.from_graph(quzhou_graph)


# A test that needs a real server or browser skips with a reason starting
# "needs-system:" on a machine without it.  Where MEDNET_REQUIRE_SYSTEM=1 (CI),
# such a skip is a failure: those tests are mandatory there.
SYSTEM_SKIP = "needs-system:"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MEDNET_REQUIRE_SYSTEM") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if SYSTEM_SKIP in reason:
            report.outcome = "failed"
            report.longrepr = f"mandatory here (MEDNET_REQUIRE_SYSTEM=1): {reason}"


POSTGRES_MISSING = ("needs-system: PostgreSQL server programs (initdb, pg_ctl under /usr/lib/postgresql/*/bin); "
                    "Debian: apt-get install postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the whole run (as ``nobody`` when run as root), stopped at the end."""
    from mednet.bench.postgres import ThrowawayPostgres, find_postgres_bin

    if find_postgres_bin() is None:
        pytest.skip(POSTGRES_MISSING)
    with ThrowawayPostgres() as server:
        yield server

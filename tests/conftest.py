"""Fixtures shared across the test suite: the Quzhou region, its network and its router (built once)."""

from __future__ import annotations

import pytest

from mednet.network import build_network
from mednet.regions import load_region
from mednet.routing import Router


@pytest.fixture(scope="session")
def quzhou():
    return load_region("quzhou")


@pytest.fixture(scope="session")
def quzhou_graph(quzhou):
    return build_network(quzhou)


@pytest.fixture(scope="session")
def quzhou_router(quzhou_graph):
    return Router.from_graph(quzhou_graph)

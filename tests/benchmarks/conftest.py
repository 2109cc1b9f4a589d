"""Benchmark fixtures: the synthetic national network and its router, built once and not timed."""

from __future__ import annotations

import pytest

from mednet.bench.routing import national_network
from mednet.network import compile_network
from mednet.routing import Router, warm_up


@pytest.fixture(scope="session")
def national_graph():
    return national_network()


@pytest.fixture(scope="session")
def national_router(national_graph):
    warm_up()  # the kernel's one-off load or JIT stays out of the timings
    return Router(compile_network(national_graph))

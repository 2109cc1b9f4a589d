"""Shared by the planning tests: Quzhou's compiled network and illustrative people scattered over it."""

from __future__ import annotations

import numpy as np
import pytest

from mednet.planning.gaps import as_network
from mednet.planning.population import Population


@pytest.fixture(scope="session")
def net(quzhou_graph):
    return as_network(quzhou_graph)


@pytest.fixture(scope="session")
def scattered():
    """``scattered(seed, n)``: n illustrative demand points over Quzhou's extent with 50–5,000 people each."""
    def make(seed: int, n: int, low: int = 50, high: int = 5000) -> Population:
        rng = np.random.default_rng(seed)
        lat, lon = rng.uniform(28.5, 29.4, n), rng.uniform(118.1, 119.2, n)
        return Population(names=tuple(f"p{i}" for i in range(n)), lat=lat, lon=lon,
                          people=rng.integers(low, high, n).astype(float), kind="points", source="illustrative")
    return make

"""The routing bench's C reference finds the distances routing finds, on routing's own arrays."""

from __future__ import annotations

import numpy as np
import pytest

from mednet.bench.c_reference import compile_reference, find_compiler
from mednet.bench.routing import c_queries, draw_queries
from mednet.regions import load_region
from mednet.routing import Router
from mednet.routing.links import csr_metres

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler (cc, gcc, clang, $CC) on this machine")


def test_the_c_search_reaches_the_routers_destinations_at_the_routers_metres():
    router = Router.from_region(load_region("quzhou"))
    by_id, by_point = draw_queries(router, n=60, seed=3)
    ref = compile_reference()
    assert ref is not None
    net = router.net
    metres = csr_metres(net, np.repeat(np.arange(net.n), np.diff(net.csr.indptr)), net.csr.indices)
    for farthest in (False, True):  # to the destination, and to the farthest institution the answer names
        inst, point, inst_m, point_m = c_queries(router, by_id, by_point, farthest=farthest)
        for queries, expected in ((inst, inst_m), (point, point_m)):
            found = ref.distances(net.csr.indptr, net.csr.indices, metres, queries)
            assert found.tolist() == expected
    inst, _, inst_m, _ = c_queries(router, by_id, by_point)
    farther = c_queries(router, by_id, by_point, farthest=True)[2]
    assert all(f >= d for f, d in zip(farther, inst_m, strict=True)) and sum(farther) > sum(inst_m)
    arrays = ref.prepare(net.csr.indptr, net.csr.indices, metres, inst)
    assert ref.run(arrays).tolist() == ref.run(arrays).tolist() == inst_m  # the scratch is reused cleanly


def test_an_unreachable_target_is_infinite():
    ref = compile_reference()
    assert ref is not None
    found = ref.distances(np.array([0, 1, 2, 2]), np.array([1, 0], dtype=np.int32), np.array([4.0, 4.0]),
                          [([0], [0.0], 2), ([2], [1.5], 2)])
    assert found.tolist() == [np.inf, 1.5]


def test_without_a_compiler_there_is_no_reference(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CC", raising=False)
    assert find_compiler() is None and compile_reference() is None

"""Scenario batches: sequential, local processes and a Dask LocalCluster give identical answers, equal to
the population coverage computed directly."""

from __future__ import annotations

import numpy as np
import pytest

from mednet.errors import InvalidRequest
from mednet.planning.batch import CompiledWhatIf, WhatIf, batch_inputs, compile_what_if, run_batch
from mednet.planning.population import population_coverage


@pytest.fixture(scope="module")
def people(scattered):
    return scattered(11, 300)


def _what_ifs(net, n):
    rng = np.random.default_rng(5)
    out = [WhatIf("today")]
    primary = [net.ids[r] for r in np.flatnonzero(net.primary_care)]
    capable = [net.ids[r] for r in np.flatnonzero(net.capable[:, net.column("paediatrics")])]
    for i in range(n - 1):
        out.append(WhatIf(f"w{i}", open=tuple((str(s), "儿科") for s in rng.choice(primary, 2, replace=False)),
                          close=((str(rng.choice(capable)), "paediatrics"),),
                          speed_factor=float(rng.choice([0.8, 1.0, 1.25]))))
    return out


@pytest.mark.parametrize("limit", [{"max_km": 20}, {"max_minutes": 30}])
def test_today_equals_population_coverage(net, people, limit):
    inputs = batch_inputs(net, people, specialties=["儿科", "obstetrics"], **limit)
    result = run_batch(inputs, [WhatIf("today")], executor="sequential")
    if "max_km" in limit:
        direct = population_coverage(net, people, specialties=["儿科", "obstetrics"], max_km=20)
        assert result.covered[0].tolist() == [r.covered for r in direct.rows]
    assert (result.covered > 0).all()


def test_processes_and_local_cluster_equal_the_sequential_run(net, people):
    distributed = pytest.importorskip("distributed")
    inputs = batch_inputs(net, people, specialties=["儿科", "obstetrics"], max_minutes=35)
    what_ifs = [compile_what_if(net, inputs, w) for w in _what_ifs(net, 40)]
    sequential = run_batch(inputs, what_ifs, executor="sequential")
    assert len({tuple(r) for r in sequential.covered}) > 5  # the what-ifs differ
    local = run_batch(inputs, what_ifs, executor="processes", workers=2)
    assert np.array_equal(local.covered, sequential.covered) and local.names == sequential.names
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        on_dask = run_batch(inputs, what_ifs, executor=client)
        by_address = run_batch(inputs, what_ifs[:5], executor=cluster.scheduler_address)
    assert np.array_equal(on_dask.covered, sequential.covered) and on_dask.executor.startswith("dask")
    assert np.array_equal(by_address.covered, sequential.covered[:5])
    frame = on_dask.frame()
    assert len(frame) == 80 and frame["share"].between(0, 1).all()


def test_opening_and_closing_change_the_answer_the_right_way(net, people):
    inputs = batch_inputs(net, people, specialties=["儿科"], max_km=15)
    capable = [net.ids[r] for r in np.flatnonzero(net.capable[:, net.column("paediatrics")])]
    opened = [net.ids[r] for r in np.flatnonzero(net.primary_care & ~net.capable[:, net.column("paediatrics")])]
    result = run_batch(inputs, [WhatIf("today"), WhatIf("open all", open=tuple((i, "儿科") for i in opened)),
                                WhatIf("close all", close_sites=tuple(capable))], executor="sequential", G=net)
    today, more, none = result.covered[:, 0]
    assert none == 0 < today < more
    with pytest.raises(InvalidRequest, match="batch's specialties"):
        compile_what_if(net, inputs, WhatIf("x", open=((opened[0], "obstetrics"),)))
    with pytest.raises(InvalidRequest, match="executor"):
        run_batch(inputs, [WhatIf("today")], executor="threads", G=net)


def test_fractional_people_over_several_blocks_equal_population_coverage(net):
    """Scoring works block by block in reused buffers: the same people and the same sum as the direct rule."""
    from mednet.planning.population import Population

    rng = np.random.default_rng(3)
    n = 20_000  # more than two scoring blocks
    people = Population(names=tuple(f"q{i}" for i in range(n)), lat=rng.uniform(28.5, 29.4, n),
                        lon=rng.uniform(118.1, 119.2, n), people=rng.uniform(0.1, 900.0, n), kind="points",
                        source="illustrative")
    inputs = batch_inputs(net, people, specialties=["儿科", "obstetrics"], max_km=12)
    result = run_batch(inputs, [WhatIf("today")], executor="sequential", chunks=1)
    direct = population_coverage(net, people, specialties=["儿科", "obstetrics"], max_km=12)
    assert result.covered[0].tolist() == [r.covered for r in direct.rows]
    assert 0 < result.covered[0, 0] < people.people.sum()
    with pytest.raises(InvalidRequest, match="chunks"):
        run_batch(inputs, [WhatIf("today")], executor="sequential", chunks=0)


def test_a_compiled_what_if_with_rows_and_columns_of_different_lengths_is_refused(net, people):
    inputs = batch_inputs(net, people, specialties=["儿科"], max_km=15)
    rows, none = np.array([0, 1]), np.zeros(0, dtype=np.int64)
    bad = CompiledWhatIf("half", rows, np.array([0]), none, none, none, 1.0)
    with pytest.raises(InvalidRequest, match=r"half\.open"):
        run_batch(inputs, [bad], executor="sequential")


def test_a_client_keeps_the_inputs_for_the_next_batch_until_they_are_dropped(net, people):
    """The arrays ship once per worker and inputs, not once per batch; changed in place, they ship again."""
    import gc
    import time

    distributed = pytest.importorskip("distributed")
    inputs = batch_inputs(net, people, specialties=["儿科"], max_km=15)
    what_ifs = [compile_what_if(net, inputs, w) for w in _what_ifs(net, 6)]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:

        def shipped():  # the inputs' keys on each worker (results are released as the batch ends)
            return {w: [k for k in keys if k.startswith("BatchInputs")] for w, keys in client.has_what().items()}

        first = run_batch(inputs, what_ifs, executor=client)
        held = shipped()
        assert len(held) == 2 and all(len(keys) == 1 for keys in held.values())
        again = run_batch(inputs, what_ifs, executor=client)
        assert shipped() == held and np.array_equal(again.covered, first.covered)
        inputs.people[:] *= 2  # the workers' copy is stale: the next batch ships the inputs again
        doubled = run_batch(inputs, what_ifs, executor=client)
        assert np.array_equal(doubled.covered, run_batch(inputs, what_ifs, executor="sequential").covered)
        assert np.array_equal(doubled.covered, 2 * first.covered) and shipped() != held
        del inputs
        gc.collect()
        deadline = time.monotonic() + 10
        while any(shipped().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(shipped().values())

"""One router, many threads: every answer is the one the query gets alone, by km and by travel cost alike.

The two engines keep per-network scratch (the km kernel's arrays, the cost
kernel's marks, buffers and result slots); a query that read another's
results would answer wrongly or fail. The threads switch as often as the
interpreter allows, so an unguarded read between a query's kernel call and
its decoding is all but certain to be crossed.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

import mednet
from mednet.errors import NoCapableInstitution
from mednet.routing import Point, Router

REGION = mednet.load_region("quzhou")
CARE = ("paediatrics", "general_surgery", "internal_medicine", "obstetrics", "rehabilitation")


@pytest.fixture
def switching_often() -> Iterator[None]:
    """Threads switch every microsecond (the default is 5 ms)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def queries(router: Router) -> list[tuple[str | Point, str, dict, bytes]]:
    """Answerable queries of both engines, from institutions and points, each with its answer alone."""
    found = []
    for i, inst in enumerate(REGION.institutions[::3]):
        origin: str | Point = inst.id if i % 2 else Point(lat=inst.lat + 0.01, lon=inst.lon - 0.01)
        for n, code in enumerate(CARE):
            options = ({"cost": "minutes"} if n % 2 else {}) | ({"direction": "emergency"} if n == 4 else {})
            try:
                found.append((origin, code, options, router.route_json(origin, code, **options)))
            except NoCapableInstitution:
                continue
    return found


def test_concurrent_queries_get_their_own_answers(switching_often: None) -> None:
    router = Router.from_region(REGION)
    asked = queries(router)
    assert len(asked) > 60 and any(o for _, _, o, _ in asked) and any(not o for _, _, o, _ in asked)
    wrong: list[tuple] = []
    failed: list[BaseException] = []

    def ask(start: int) -> None:
        try:
            for origin, code, options, alone in asked[start:] + asked[:start]:
                if router.route_json(origin, code, **options) != alone:
                    wrong.append((origin, code, options))
        except BaseException as err:  # reported below
            failed.append(err)

    threads = [threading.Thread(target=ask, args=(k * len(asked) // 4,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed, failed[:3]
    assert not wrong, f"{len(wrong)} answers crossed with another thread's, e.g. {wrong[:3]}"

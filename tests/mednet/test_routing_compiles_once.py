"""A cold first route compiles each compiled helper of routing once, by km and by minutes.

Every extra argument type (a literal 0, an int32 where int64 is passed elsewhere, a second array layout) makes
numba compile the helper once more: seconds of a fresh clone's first ``mednet route``. Routing from an
institution, a point and down to a home (from either), in a process of its own, must leave one signature per helper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HELPERS = {
    "mednet.routing.search": ("heap_push", "heap_pop", "start_search", "start_seeds", "settle_next", "relax_links"),
    "mednet.routing.kernel": ("_keep_nearest", "_keep_settled", "_first_candidates_known", "decide_from_tables",
                              "route_kernel", "next_stamp", "write_path"),
    "mednet.routing.tables": ("_has_label", "_nearest_sources", "anchor_distances"),
}

SCRIPT = f"""
import importlib, json
from mednet.regions import load_region
from mednet.routing import Point, Router
router = Router.from_region(load_region("quzhou"))
router.route("华埠", "儿科")
router.route("华埠", "普外科", direction="emergency")
router.route(Point(lat=28.95, lon=118.85), "儿科")
router.route("开化县人民医院", "全科", direction="down", home="华埠")
router.route(Point(lat=29.1, lon=118.4), "全科", direction="down", home="华埠")
for origin in ("华埠", Point(lat=28.95, lon=118.85)):
    router.route(origin, "儿科", cost="minutes")
    router.route(origin, "全科", direction="down", home="华埠", cost="minutes")
import gc
from numba.core.registry import CPUDispatcher
twice = {{f"{{d.py_func.__module__}}.{{d.py_func.__name__}}": len(d.signatures) for d in gc.get_objects()
         if isinstance(d, CPUDispatcher) and d.py_func.__module__.startswith("mednet.routing")
         and len(d.signatures) > 1}}
print(json.dumps(twice))
print(json.dumps({{f"{{m}}.{{f}}": len(getattr(importlib.import_module(m), f).signatures)
                  for m, names in {HELPERS!r}.items() for f in names}}))
"""


def test_each_compiled_helper_of_routing_compiles_once(tmp_path):
    """A cold cache (an empty folder of its own): helpers loaded from a warm cache record no signature."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=600,
                          env=env)
    *_, twice, counts = done.stdout.strip().splitlines()
    counts = json.loads(counts)
    assert counts and all(n >= 1 for n in counts.values()), counts  # each was used
    assert json.loads(twice) == {}  # nothing of routing (by km or by minutes) compiled twice

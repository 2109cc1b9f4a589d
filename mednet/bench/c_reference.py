"""The routing bench's outside reference: a plain early-stop Dijkstra in C on routing's own CSR arrays.

The C source below is compiled when the bench runs, with the system's C
compiler (``$CC``, else ``cc``), and called through ctypes in the same
process on the same queries as the router: from each query's sources (the
origin, or a point's access legs at their metres) to the destination the
router chose, stopping when it is settled. One call runs a whole batch of
queries, so the figure per query holds no ctypes overhead. Where no
compiler exists :func:`compile_reference` returns None and the bench says so.

    >>> import numpy as np
    >>> ref = compile_reference()
    >>> found = None if ref is None else ref.distances(
    ...     np.array([0, 1, 3]), np.array([1, 0, 2], dtype=np.int32), np.array([5.0, 5.0, 7.0]),
    ...     [([0], [0.0], 1), ([1], [2.0], 0)])
    >>> find_compiler() is None or found.tolist() == [5.0, 7.0]
    True
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: One batch of queries on a CSR graph: for query q, sources ``src[src_ptr[q]:src_ptr[q + 1]]`` start at
#: ``src_m``; the search stops when ``target[q]`` is settled (``out[q]``: its metres, or INFINITY).
C_SOURCE = r"""
#include <math.h>
#include <stdint.h>

typedef struct { double d; int64_t v; } item;

static void push(item *h, int64_t *size, double d, int64_t v) {
    int64_t i = (*size)++;
    while (i > 0) {
        int64_t p = (i - 1) >> 1;
        if (h[p].d <= d) break;
        h[i] = h[p];
        i = p;
    }
    h[i].d = d;
    h[i].v = v;
}

static item pop(item *h, int64_t *size) {
    item top = h[0], last = h[--(*size)];
    int64_t i = 0, n = *size;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].d < h[c].d) c++;
        if (h[c].d >= last.d) break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0) h[i] = last;
    return top;
}

void run_queries(const int64_t *indptr, const int32_t *indices, const double *w, int64_t nq,
                 const int64_t *src_ptr, const int64_t *src, const double *src_m, const int64_t *target,
                 double *dist, int64_t *stamp, int64_t *generation, item *heap, double *out) {
    for (int64_t q = 0; q < nq; q++) {
        int64_t gen = ++(*generation), size = 0, t = target[q];
        out[q] = INFINITY;
        for (int64_t s = src_ptr[q]; s < src_ptr[q + 1]; s++) {
            int64_t v = src[s];
            if (stamp[v] != gen || src_m[s] < dist[v]) {
                stamp[v] = gen;
                dist[v] = src_m[s];
                push(heap, &size, src_m[s], v);
            }
        }
        while (size > 0) {
            item top = pop(heap, &size);
            int64_t v = top.v;
            if (top.d > dist[v]) continue;
            if (v == t) { out[q] = top.d; break; }
            for (int64_t e = indptr[v]; e < indptr[v + 1]; e++) {
                int64_t u = indices[e];
                double d = top.d + w[e];
                if (stamp[u] != gen || d < dist[u]) {
                    stamp[u] = gen;
                    dist[u] = d;
                    push(heap, &size, d, u);
                }
            }
        }
    }
}
"""

_P = ctypes.c_void_p


class CReference:
    """The compiled search, loaded: :meth:`prepare` a batch once, :meth:`run` it (timed by the bench)."""

    def __init__(self, library: ctypes.CDLL, compiler: str) -> None:
        self.compiler = compiler
        self._run = library.run_queries
        self._run.restype = None
        self._run.argtypes = [_P, _P, _P, ctypes.c_int64, _P, _P, _P, _P, _P, _P, _P, _P, _P]

    def prepare(self, indptr: np.ndarray, indices: np.ndarray, metres: np.ndarray,
                queries: Sequence[tuple[Sequence[int], Sequence[float], int]]) -> tuple[np.ndarray, ...]:
        """The arrays of one batch: the graph (int64 offsets, int32 targets, float64 metres), the queries
        ``(sources, their start metres, target)`` packed, and the scratch (distances, stamps, heap, out)."""
        n = len(indptr) - 1
        sizes = [len(s) for s, _, _ in queries]
        src_ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        src = np.array([v for s, _, _ in queries for v in s], dtype=np.int64)
        src_m = np.array([m for _, ms, _ in queries for m in ms], dtype=np.float64)
        target = np.array([t for _, _, t in queries], dtype=np.int64)
        heap = np.zeros(2 * (len(indices) + max(sizes, default=0) + 1), dtype=np.float64)  # (double, int64) items
        return (np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(indices, dtype=np.int32),
                np.ascontiguousarray(metres, dtype=np.float64), src_ptr, src, src_m, target,
                np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64), heap,
                np.zeros(len(queries)))

    def run(self, arrays: tuple[np.ndarray, ...]) -> np.ndarray:
        """Run a prepared batch; returns each query's metres to its target (``inf``: not reachable)."""
        indptr, indices, metres, src_ptr, src, src_m, target, dist, stamp, gen, heap, out = arrays
        self._run(indptr.ctypes.data, indices.ctypes.data, metres.ctypes.data, len(target), src_ptr.ctypes.data,
                  src.ctypes.data, src_m.ctypes.data, target.ctypes.data, dist.ctypes.data, stamp.ctypes.data,
                  gen.ctypes.data, heap.ctypes.data, out.ctypes.data)
        return out

    def distances(self, indptr: np.ndarray, indices: np.ndarray, metres: np.ndarray,
                  queries: Sequence[tuple[Sequence[int], Sequence[float], int]]) -> np.ndarray:
        """Each query's metres from its sources to its target."""
        return self.run(self.prepare(indptr, indices, metres, queries)).copy()


def find_compiler() -> str | None:
    """The system's C compiler: ``$CC``, else ``cc``, ``gcc`` or ``clang`` on the path (None: none)."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def compile_reference() -> CReference | None:
    """:data:`C_SOURCE` compiled (``-O2``) into a temporary shared library and loaded; None without a compiler
    or when compiling fails."""
    compiler = find_compiler()
    if compiler is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mednet-cref-") as folder:
        source, library = Path(folder) / "ref.c", Path(folder) / "ref.so"
        source.write_text(C_SOURCE, encoding="utf-8")
        done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            return None
        loaded = ctypes.CDLL(str(library))  # mapped: the file may go once loaded
    return CReference(loaded, Path(compiler).name)

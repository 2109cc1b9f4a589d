"""``mednet bench``: performance figures beside a reference measured in the same run.

Each area module (``routing`` and ``coverage`` in this package; ``http``,
which drives the service, in ``service.bench``) defines
``run(*, quick: bool) -> list[BenchRow]``. Every row states its own
reference, so the report gives ratios rather than raw times alone: this
machine is shared and absolute times drift.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

AREAS = ("routing", "coverage", "http", "ledger", "import", "desk", "planning", "indicators")


@dataclass(frozen=True)
class BenchRow:
    """One figure: what was measured, its value, the reference and the target."""

    area: str
    name: str
    value: float
    unit: str
    reference_name: str | None = None
    reference_value: float | None = None
    target: str | None = None
    met: bool | None = None
    #: The target is a multiple of the reference (``<= 3x C``): the ratio is then value ÷ reference.
    multiple: bool = False

    @property
    def ratio(self) -> float | None:
        """How many times better than the reference (reference / value for times); for a row whose target is
        a multiple of the reference, value ÷ reference (the figure the target names).

        >>> row = BenchRow("a", "x", 12.0, "µs", "C", 4.0)
        >>> row.ratio, BenchRow("a", "x", 12.0, "µs", "C", 4.0, multiple=True).ratio
        (0.3333333333333333, 3.0)
        """
        if not self.reference_value or not self.value:
            return None
        if self.multiple:
            return self.value / self.reference_value
        if self.unit in ("s", "ms", "µs"):
            return self.reference_value / self.value
        return self.value / self.reference_value


def time_per_call(func: Callable[[], object], *, min_seconds: float = 0.5, repeat: int = 5,
                  clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds per call: the median over ``repeat`` rounds of a self-sized loop (``clock``: wall time, or e.g.
    ``time.process_time`` for the process's CPU time)."""
    n, elapsed = 1, 0.0
    while True:
        start = clock()
        for _ in range(n):
            func()
        elapsed = clock() - start
        if elapsed >= min_seconds / repeat or n >= 1 << 24:
            break
        n *= 2
    rounds = [elapsed / n]
    for _ in range(repeat - 1):
        start = clock()
        for _ in range(n):
            func()
        rounds.append((clock() - start) / n)
    return statistics.median(rounds)


def format_rows(rows: list[BenchRow]) -> str:
    """A plain table: figure, reference, ratio (``x`` times better than the reference; ``x ref``: the value as a
    multiple of the reference, where the target is one), target."""
    lines = [f"{'area':9} {'figure':44} {'value':>12} {'reference':>28} {'ratio':>9}  target"]
    for r in rows:
        ref = f"{r.reference_value:,.4g} {r.unit} ({r.reference_name})" if r.reference_value else ""
        ratio = (f"{r.ratio:,.2f}x ref" if r.multiple else f"{r.ratio:,.1f}x") if r.ratio else ""
        target = (r.target or "") + ("" if r.met is None else ("  met" if r.met else "  NOT MET"))
        lines.append(f"{r.area:9} {r.name:44} {r.value:>10,.4g} {r.unit:2} {ref:>28} {ratio:>9}  {target}")
    return "\n".join(lines)

"""The tiered-care step rule, one for both engines: who may be the destination of a query, at which step.

Both engines, by km (:mod:`mednet.routing.kernel`) and by travel cost
(:mod:`mednet.routing.cost_kernel`), classify each institution they meet
with :func:`classify`: 0, 1 or 2, a candidate of that policy step, else a
code >= 10 saying why it cannot be one. The steps:

- ``up``: the origin's own community, then its partners (marked in the
  query), then any institution of a higher tier, or a session a higher-tier
  expert holds (bookable in the window);
- ``down``: the home centre (``preferred``), then the home community;
- ``emergency``: any permanent holder, nearest first (scheduled sessions are
  not there now).

The origin is never the destination, except going up to a higher-tier
expert's session held at the origin itself.

    >>> import numpy as np
    >>> cap, rank, home = np.array([1, 1, 2]), np.array([1, 3, 3]), np.array([0, 0, 1])
    >>> no_marks = np.zeros(3)
    >>> [classify(j, 0, 1, UP, cap, rank, home, 0, -1, no_marks, 8.0) for j in range(3)]
    [10, 0, 13]
    >>> [classify(j, 0, 1, EMERGENCY, cap, rank, home, 0, -1, no_marks, 8.0) for j in range(3)]
    [10, 2, 13]
    >>> STEPS[DOWN]
    ('home_centre', 'home_community', 'home_community')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from numba.extending import register_jitable

if TYPE_CHECKING:
    from mednet.routing.answers import Step

UP, DOWN, EMERGENCY = 0, 1, 2
MODES = {"up": UP, "down": DOWN, "emergency": EMERGENCY}
DIRECTION_NAMES = {UP: "up", DOWN: "down", EMERGENCY: "emergency"}
#: Code of a settled institution: 0..2 = a candidate of that step; >= 10 = why it cannot be one.
IS_ORIGIN, NOT_CAPABLE, NOT_HIGHER_TIER, NOT_IN_SESSION, OUTSIDE = 10, 11, 12, 13, 14
STEPS: dict[int, tuple[Step, Step, Step]] = {
    UP: ("own_community", "partners", "any"),
    DOWN: ("home_centre", "home_community", "home_community"),
    EMERGENCY: ("nearest", "nearest", "nearest"),
}
# Session codes passed to the kernel: not bookable in the window / bookable / bookable but held by a lower tier.
SESSION_NO, SESSION_OK, SESSION_LOW = 0, 1, 2


@register_jitable
def classify(j, origin, origin_rank, mode, capability, rank, home, home_com, preferred, mark,
             mark_base):  # pragma: no cover - compiled
    """0..2: a candidate of that step; else why not. ``mark[j] - mark_base`` in 0..7: marked in this query.

    ``origin`` is -1 for a point (no institution is the origin); ``origin_rank`` the tier rank going ``up``
    is compared with (the home centre's, for a point).
    """
    c = capability[j]
    marked = mark[j] - mark_base
    value = int(marked) if 0.0 <= marked < 8.0 else 0
    if j == origin:  # noqa: SIM102 - the comment belongs to the inner rule
        # The origin is never the destination, except for a higher-tier expert's session held at the
        # origin itself (上下联动: the visiting clinic at the patient's own centre), going up.
        if mode != UP or c != 2 or ((value >> 1) & 3) != SESSION_OK:
            return IS_ORIGIN
    if c == 0:
        return NOT_CAPABLE
    if c == 1:
        if mode == UP and rank[j] <= origin_rank:
            return NOT_HIGHER_TIER
    else:
        session_code = (value >> 1) & 3
        if session_code == SESSION_NO:
            return NOT_IN_SESSION
        if session_code == SESSION_LOW:
            return NOT_HIGHER_TIER
    if mode == UP:
        if home_com >= 0 and home[j] == home_com:
            return 0
        if value & 1:
            return 1
        return 2
    if mode == DOWN:
        if j == preferred:
            return 0
        if home[j] == home_com:
            return 1
        return OUTSIDE
    return 2

"""Route a referral: from an origin and a needed specialty to the institution the tiered-care policy picks.

The package, one job per module:

- :mod:`~mednet.routing.answers`: the answer types (:class:`Referral`, :class:`Point`, …); no numba.
- :mod:`~mednet.routing.request`: every rule a request must meet, shared by the library, the CLI and the service.
- :mod:`~mednet.routing.sessions`: the booking window and the session calendar.
- :mod:`~mednet.routing.scheduled`: a query's sessions (bookable, named, or with no published day).
- :mod:`~mednet.routing.router`: the thin :class:`Router` facade (check, resolve, hand to an engine, render).
- :mod:`~mednet.routing.by_km` and :mod:`~mednet.routing.by_cost`: the two engines, one signature.
- :mod:`~mednet.routing.tables`: the tables built once per network.
- :mod:`~mednet.routing.policy`: the tiered-care step rule both engines classify institutions with.
- :mod:`~mednet.routing.kernel` and :mod:`~mednet.routing.search`: the compiled query and its one search;
  :mod:`~mednet.routing.trip`: the discharging hospital's trip when a ``down`` answer is ranked from home.
- :mod:`~mednet.routing.access`: where a point joins the network (its access legs, one compiled call).
- :mod:`~mednet.routing.render`: the answer as a model, or as its JSON directly.
- :mod:`~mednet.routing.refusals`: why a query has no answer (:class:`~mednet.errors.NoCapableInstitution`).

The router and what needs numba load on first use of their names::

    >>> import mednet.routing
    >>> mednet.routing.Referral.__name__
    'Referral'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mednet.extras import lazy_names
from mednet.routing.answers import (
    DIRECTION_ZH,
    REASON_ZH,
    STEP_ZH,
    Alternative,
    Direction,
    Hop,
    InstitutionRef,
    Lang,
    PassedOver,
    Point,
    Reason,
    Referral,
    SessionSlot,
    SpecialtyRef,
    Step,
    Trip,
    explain,
)
from mednet.routing.request import CST, RouteQuery

if TYPE_CHECKING:
    from mednet.routing.router import Router, route_referral, warm_up

_LAZY = {"Router": "mednet.routing.router", "route_referral": "mednet.routing.router",
         "warm_up": "mednet.routing.router"}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "CST", "DIRECTION_ZH", "REASON_ZH", "STEP_ZH",
    "Alternative", "Direction", "Hop", "InstitutionRef", "Lang", "PassedOver", "Point", "Reason", "Referral",
    "RouteQuery", "Router", "SessionSlot", "SpecialtyRef", "Step", "Trip", "explain", "route_referral", "warm_up",
]

"""The answer of a route by travel cost: a :class:`ReferralByCost`, a :class:`Referral` whose figures come from the
travel layer, each with its basis.

By travel cost (``cost="minutes"``, ``max_minutes``, or a travel layer
given), the organisational links and the policy steps decide who may be the
destination at each step, and the travel layer decides how far: km and
minutes from the origin (an institution, the point given, or the home
institution of a ``down`` referral) to each candidate directly. So the path
is one hop, the direct travel leg (``kind`` ``"travel"``), and every
distance is the travel layer's, with its basis.
"""

from __future__ import annotations

from pydantic import Field

from mednet.routing.answers import Alternative, PassedOver, Referral
from mednet.travel.layer import Basis, Cost


class AlternativeByCost(Alternative):
    """An alternative with the basis of its km and minutes (``minutes`` is the travel layer's, to 0.01 min)."""

    km_basis: Basis
    minutes_basis: Basis


class PassedOverByCost(PassedOver):
    """Institutions skipped for one reason, nearest first by the chosen cost, with their minutes too."""

    minutes: tuple[float, ...] = Field(description="travel minutes of each institution named, from where "
                                                   "`measured_from` says")


class ReferralByCost(Referral):
    """A referral routed by travel cost: what :class:`Referral` says, with figures from the travel layer.

    ``distance_km`` and ``minutes`` are the travel layer's, from where
    ``measured_from`` says to the destination directly (km to the metre,
    minutes to 0.01 min; the figures compared with ``max_km`` and
    ``max_minutes`` and ranked by ``cost``); ``km_basis`` and
    ``minutes_basis`` say where each comes from: a road network or an OD
    table (with its source), or the default model (great circle × the
    region's circuity at a speed by terrain class), which
    ``minutes_from_default_model`` and ``travel_note`` say outright. From a
    point, figures are always the default model's (a point has no row in the
    imported tables). ``speed_kmh`` is the leg's average speed (km ÷
    minutes). ``path`` is the direct travel leg. Alternatives and the
    passed-over list are ranked by ``cost``; ``beyond_max_km`` and
    ``beyond_max_minutes`` name candidates the policy would have taken
    first, skipped for the limit they break.
    """

    cost: Cost
    max_minutes: float | None = None
    km_basis: Basis
    minutes_basis: Basis
    minutes_from_default_model: bool
    travel_note: str
    alternatives: tuple[AlternativeByCost, ...] = ()
    passed_over: tuple[PassedOverByCost, ...] = ()

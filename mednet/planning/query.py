"""One coverage question, checked once: the care, the limits, the cost and travel layer, whether sessions count.

The planning analyses that ask "who is within reach of which care" (coverage
gaps, what-ifs, upgrade sites, population coverage, catchment access) take
their options through :class:`CoverageQuery`, so that each option is checked
in one place and the rule of who offers a care (:func:`offered`) is applied
in one place.

    >>> import mednet
    >>> net = mednet.compile_network(mednet.build_network(mednet.load_region("quzhou")))
    >>> q = CoverageQuery.checked(specialties="儿科", max_km=30)
    >>> q.codes(net), q.by_travel_cost, q.offered(net, q.codes(net)).shape == (net.n, 1)
    (('paediatrics',), False, True)
    >>> CoverageQuery.checked(max_minutes=45).by_travel_cost
    True
    >>> CoverageQuery.checked(max_km=0)
    Traceback (most recent call last):
    ...
    mednet.errors.InvalidRequest: `max_km` must be a number > 0, got 0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from mednet.errors import InvalidRequest, UnknownSpecialty
from mednet.network import CompiledNetwork
from mednet.routing.request import check_max_km, check_travel_options
from mednet.specialties import resolve_specialty
from mednet.travel.layer import Cost, TravelLayer, travel_layer_of


@dataclass(frozen=True)
class CoverageQuery:
    """The options of a coverage question, checked (make it with :meth:`checked`).

    ``specialties``: the names as given (any spelling; None: every specialty of the network), resolved against a
    network by :meth:`codes`; ``max_km`` / ``max_minutes``: the limits (None: none); ``cost``: what "nearest"
    means; ``travel``: the travel layer (None: the region's default model when going by travel cost);
    ``include_sessions``: whether a specialist's scheduled sessions count as offering the care;
    ``by_travel_cost``: whether the question goes by the travel layer (``cost="minutes"``, a limit in minutes or
    a layer given), as routing decides it.
    """

    specialties: tuple[str, ...] | None = None
    max_km: float | None = None
    max_minutes: float | None = None
    cost: Cost = "km"
    travel: TravelLayer | None = None
    include_sessions: bool = True
    by_travel_cost: bool = False

    @classmethod
    def checked(cls, *, specialties: Iterable[str] | str | None = None, max_km: object = None,
                max_minutes: object = None, cost: object = "km", travel: object = None,
                include_sessions: object = True) -> CoverageQuery:
        """The query, each option checked (:class:`~mednet.errors.InvalidRequest` naming the first one wrong)."""
        checked_km = check_max_km(max_km)
        checked_cost, checked_minutes, by_travel_cost = check_travel_options(cost, max_minutes, travel)
        if not isinstance(include_sessions, bool):
            raise InvalidRequest("include_sessions", include_sessions, "must be True or False",
                                 rule_zh="须为 True 或 False")
        return cls(specialties=_names(specialties), max_km=checked_km, max_minutes=checked_minutes, cost=checked_cost,
                   travel=travel if isinstance(travel, TravelLayer) else None, include_sessions=include_sessions,
                   by_travel_cost=by_travel_cost)

    def with_specialties(self, specialties: Iterable[str] | str | None) -> CoverageQuery:
        """The same question about other specialties (the other options already checked)."""
        return dataclasses.replace(self, specialties=_names(specialties))

    def codes(self, net: CompiledNetwork) -> tuple[str, ...]:
        """The specialties asked about, as the network's codes (:func:`resolve_specialties`)."""
        return resolve_specialties(net, self.specialties)

    def layer(self, net: CompiledNetwork) -> TravelLayer | None:
        """The travel layer the question goes by (the region's default model when none was given), or None: by
        network km."""
        return travel_layer_of(net, self.travel) if self.by_travel_cost else None

    def offered(self, net: CompiledNetwork, codes: Sequence[str]) -> np.ndarray:
        """(institutions × ``codes``): whether each institution offers each care (:func:`offered`)."""
        return offered(net, codes, include_sessions=self.include_sessions)


def _names(specialties: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """Specialty names as given, as a tuple (one name alone, or None: all)."""
    if specialties is None:
        return None
    return (specialties,) if isinstance(specialties, str) else tuple(specialties)


def offered(net: CompiledNetwork, codes: Sequence[str], *, include_sessions: bool = True) -> np.ndarray:
    """(institutions × ``codes``): whether each institution offers each care — permanently, or in a specialist's
    scheduled sessions when ``include_sessions`` (the one place this rule is applied in planning).

    >>> import mednet
    >>> net = mednet.compile_network(mednet.build_network(mednet.load_region("quzhou")))
    >>> bool((offered(net, ["paediatrics"]) >= offered(net, ["paediatrics"], include_sessions=False)).all())
    True
    """
    cols = [net.column(code) for code in codes]
    permanent = net.capable[:, cols]
    return permanent | net.in_session[:, cols] if include_sessions else permanent


def resolve_specialties(net: CompiledNetwork, specialties: Iterable[str] | str | None) -> tuple[str, ...]:
    """Specialties (any spelling) as the compiled network's codes, each once; None: all of them.

    >>> import mednet
    >>> net = mednet.compile_network(mednet.build_network(mednet.load_region("quzhou")))
    >>> resolve_specialties(net, ["儿科", "paediatrics", "普外科"])
    ('paediatrics', 'general_surgery')
    """
    names = _names(specialties)
    if names is None:
        return net.specialties
    codes = tuple(dict.fromkeys(resolve_specialty(s).code for s in names))
    if not codes:
        raise InvalidRequest("specialties", [], "must name at least one specialty (or None for all)")
    for code in codes:
        if code not in net.specialties:
            raise UnknownSpecialty(code, known=net.specialties, where="the compiled network")
    return codes

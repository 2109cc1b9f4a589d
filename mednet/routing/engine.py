"""The one engine shape: ``engine(tables, query, resolved) -> Decided``, an answer that renders itself.

Both engines, by km (:func:`mednet.routing.by_km.route_by_km`) and by
travel cost (:func:`mednet.routing.by_cost.route_by_cost`), take the
network's :class:`~mednet.routing.routing_tables.RoutingTables`, the checked
:class:`~mednet.routing.request.RouteQuery` and the names
:meth:`mednet.routing.Router.resolve` resolved, and return a decided answer
that writes itself as a :class:`~mednet.routing.answers.Referral` (or its
subclass by travel cost) or as that model's JSON. The router picks the
engine by the query's cost and knows nothing else of either.

    >>> from mednet.regions import load_region
    >>> from mednet.routing import Router
    >>> from mednet.routing.request import RouteQuery
    >>> router = Router.from_region(load_region("quzhou"))
    >>> q = RouteQuery.checked("华埠", "普外科")
    >>> decided = router.decide(q)
    >>> decided.json(router.tables) == decided.referral(router.tables).model_dump_json().encode()
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mednet.routing.answers import Referral
    from mednet.routing.request import RouteQuery
    from mednet.routing.routing_tables import RoutingTables
    from mednet.routing.start import Resolved


class Decided(Protocol):
    """A decided route, not yet written: either engine's answer."""

    def referral(self, rt: RoutingTables) -> Referral:
        """The answer as a model (:class:`~mednet.routing.answers.Referral`, or by travel cost
        :class:`~mednet.routing.cost_answers.ReferralByCost`)."""
        ...

    def json(self, rt: RoutingTables) -> bytes:
        """The answer as the JSON of :meth:`referral`'s model, byte for byte, written directly."""
        ...


class Engine(Protocol):
    """Routing's one engine signature."""

    def __call__(self, rt: RoutingTables, q: RouteQuery, r: Resolved, /) -> Decided:
        """The decided answer to the checked query ``q`` whose names ``r`` resolved on the tables ``rt``."""
        ...

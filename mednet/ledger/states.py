"""The referral's state machine and who owns each transition — the one place these rules live.

双向转诊 as a closed loop: the referring desk creates and cancels; the
receiving desk accepts, rejects (a reason is required), redirects onward,
books, marks arrived and completed, and sends the patient home (a new
down-referral linked to its parent). An admin may expire a stale open
referral.

    requested ─accept→ accepted ─book→ booked ─arrive→ arrived ─complete→ completed ─send_home→ (new referral)
        │  └─reject→ rejected    │     ▲ hold (a slot kept for a while; the state stays)
        │                        └─arrive→ arrived, without a booking where the destination has walk-in care
        └─redirect→ redirected ─accept/reject/redirect→ …
    cancel (origin) and expire (admin) from any open state

Walk-in care (an emergency, a primary-care GP clinic, a standing clinic 常设门诊) is the one rule of
:mod:`mednet.ledger.walkin`; an ``arrive`` from ``accepted`` without it is refused as an illegal transition.
An arrival before the booked day needs a reason (the ledger checks the slot's day).

>>> allowed_actions("requested")
('accept', 'reject', 'redirect', 'cancel', 'expire')
>>> check_transition("booked", "accept").to
Traceback (most recent call last):
...
mednet.errors.IllegalTransition: cannot `accept` a referral that is booked; allowed: arrive, cancel, expire
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mednet.errors import IllegalTransition

State = Literal["requested", "accepted", "rejected", "redirected", "booked", "arrived", "completed", "cancelled",
                "expired"]
Action = Literal["accept", "reject", "redirect", "hold", "book", "arrive", "complete", "send_home", "cancel",
                 "expire"]
#: Who may take an action: the desk of the referral's origin, of its current destination, or an admin.
Owner = Literal["origin", "destination", "admin"]

STATES: tuple[State, ...] = ("requested", "accepted", "rejected", "redirected", "booked", "arrived", "completed",
                             "cancelled", "expired")
#: States in which the referral is still open: it can be cancelled or expired, and it may hold a slot.
OPEN_STATES: frozenset[State] = frozenset({"requested", "redirected", "accepted", "booked"})
#: States in which no action applies any more (``completed`` still allows ``send_home``).
FINAL_STATES: frozenset[State] = frozenset({"rejected", "cancelled", "expired"})


@dataclass(frozen=True)
class Transition:
    """One action: the states it applies in, the state it leads to, who owns it, what it needs."""

    action: Action
    sources: frozenset[State]
    to: State | None  # None: the state stays (a hold, or a send-home that creates a new referral)
    owner: Owner
    needs_reason: bool = False
    #: States from which the action needs walk-in care at the destination (mednet.ledger.walkin).
    walk_in_from: frozenset[State] = frozenset()


_WAITING: frozenset[State] = frozenset({"requested", "redirected"})

TRANSITIONS: dict[Action, Transition] = {t.action: t for t in (
    Transition("accept", _WAITING, "accepted", "destination"),
    Transition("reject", _WAITING, "rejected", "destination", needs_reason=True),
    Transition("redirect", _WAITING, "redirected", "destination", needs_reason=True),
    Transition("hold", frozenset({"accepted"}), None, "destination"),
    Transition("book", frozenset({"accepted"}), "booked", "destination"),
    Transition("arrive", frozenset({"booked", "accepted"}), "arrived", "destination",
               walk_in_from=frozenset({"accepted"})),
    Transition("complete", frozenset({"arrived"}), "completed", "destination"),
    Transition("send_home", frozenset({"completed"}), None, "destination"),
    Transition("cancel", OPEN_STATES, "cancelled", "origin"),
    Transition("expire", OPEN_STATES, "expired", "admin"),
)}
ACTIONS: tuple[Action, ...] = tuple(TRANSITIONS)


def allowed_actions(state: State) -> tuple[Action, ...]:
    """The actions that apply in ``state``, in the order of :data:`TRANSITIONS`.

    >>> allowed_actions("completed"), allowed_actions("rejected")
    (('send_home',), ())
    """
    return tuple(a for a, t in TRANSITIONS.items() if state in t.sources)


def check_transition(state: State, action: str) -> Transition:
    """The transition ``action`` takes from ``state``; :class:`IllegalTransition` (→ 409) naming the allowed ones.

    >>> check_transition("requested", "accept").to
    'accepted'
    """
    transition = TRANSITIONS.get(action)  # type: ignore[call-overload]
    allowed = allowed_actions(state)
    if transition is None or state not in transition.sources:
        raise IllegalTransition(state, action, allowed)
    return transition

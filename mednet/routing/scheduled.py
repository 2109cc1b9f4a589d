"""Scheduled sessions in a query: which are bookable, how the answer names them, and those with no published day.

A specialty held in sessions (:class:`~mednet.models.Capability` with
``sessions``) counts only when a session falls in the booking window
(:mod:`mednet.routing.sessions`). :class:`Scheduled` turns the sessions of
one specialty into the codes the kernel takes (bookable, bookable but not by
a higher-tier expert, not bookable) and the slots the answer shows. A
session whose weekday is not published is never the destination, but it is
offered: :func:`with_undated` reruns the kernel as if it were bookable and
gives it its place among the alternatives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from mednet.models import Session
from mednet.routing.answers import Lang, SessionSlot, assemble
from mednet.routing.kernel import OUT_ALT, OUT_HEADER, OUT_PASSED
from mednet.routing.policy import SESSION_LOW, SESSION_NO, SESSION_OK, UP
from mednet.routing.render import Renderer
from mednet.routing.sessions import day_not_published, day_unknown, first_in_window, session_text

#: The candidates of a query, destination first: institutions, km, step numbers.
Candidates = tuple[list[int], tuple[float, ...], list[int]]
#: Reruns the kernel with other session codes, candidates and alternatives: its integer and float answer slots.
Rerun = Callable[[np.ndarray, int, int], tuple[list[int], tuple[float, ...]]]


class Scheduled:
    """The sessions of a network, read per query against its booking window."""

    def __init__(self, rank: np.ndarray, index: dict[str, int], booking_days: int, render: Renderer) -> None:
        self._rank, self._index, self._booking_days, self._render = rank, index, booking_days, render

    def codes(self, held: tuple[tuple[int, tuple[Session, ...]], ...], o: int, mode: int, when: dt.datetime,
              lang: Lang) -> tuple[np.ndarray, dict[int, SessionSlot], int, list[int]]:
        """Per institution holding the specialty in sessions: whether one is bookable (the institutions, then
        their codes, as the kernel takes them), and the slot; how many are bookable; and the institutions
        whose only sessions that might fall in the window have no published day (with their slot, marked)."""
        nodes, codes, slots, undated = [], [], {}, []
        rank_o = int(self._rank[o])
        for j, sessions in held:
            best = None
            unknown = None
            for session in sessions:
                found = first_in_window(session, when, self._booking_days)
                if found is None:
                    if unknown is None and day_unknown(session, when, self._booking_days):
                        unknown = session
                    continue
                provider = self._index.get(session.provider) if session.provider else None
                high = int(self._rank[provider if provider is not None else j]) > rank_o
                key = (mode != UP or high, found[1] is not None, -(found[0].toordinal()) if found[0] else 0)
                if best is None or key > best[0]:
                    best = (key, session, found[0], provider, high)
            nodes.append(j)
            if best is None:
                codes.append(SESSION_NO)
                if unknown is not None:
                    provider = self._index.get(unknown.provider) if unknown.provider else None
                    if mode != UP or int(self._rank[provider if provider is not None else j]) > rank_o:
                        undated.append(j)
                        slots[j] = self.slot(unknown, None, provider, lang, undated_at=j)
                continue
            _, session, date, provider, high = best
            codes.append(SESSION_OK if mode != UP or high else SESSION_LOW)
            slots[j] = self.slot(session, date, provider, lang)
        n_ok = sum(1 for c in codes if c == SESSION_OK)
        return np.asarray(nodes + codes, dtype=np.int64), slots, n_ok, undated

    def slot(self, session: Session, date: dt.date | None, provider: int | None, lang: Lang, *,
             undated_at: int | None = None) -> SessionSlot:
        """A session as the answer names it; one whose day is unknown (held at ``undated_at``) says so and
        where to ask: the centre, and its booking channel when the region has it."""
        text = session_text(session, date, lang)
        day_is_unknown = undated_at is not None
        if undated_at is not None:
            contact = self._render.contacts[undated_at]
            booking = contact.booking.value if contact is not None and contact.booking is not None else None
            text = f"{text}{'；' if lang == 'zh' else '; '}{day_not_published(lang, booking=booking)}"
        return assemble(SessionSlot, {
            "date": date, "weekday": session.weekday, "part": session.part, "every_weeks": session.every_weeks,
            "provider": None if provider is None else self._render.refs[provider], "text": text,
            "day_unknown": day_is_unknown,
        })


def with_undated(rerun: Rerun, sessions: np.ndarray, undated: list[int], n_total: int, k: int,
                 chosen: Candidates) -> Candidates:
    """The candidates (destination first) with the sessions whose day is not published among them.

    Such a session is never the destination (it is not known to fall in the
    window), but it is offered: the kernel runs again (``rerun``) as if it
    were bookable, and it takes its place in the policy's order (step, then
    km) among the alternatives, beside the ``k`` others.
    """
    m = len(sessions) // 2
    if_known = sessions.copy()
    held_at = sessions[:m].tolist()
    for j in undated:
        if_known[m + held_at.index(j)] = SESSION_OK
    ints, floats = rerun(if_known, n_total + len(undated), k + len(undated))
    n_passed, n_alt = ints[OUT_PASSED], ints[OUT_ALT]
    base = OUT_HEADER + n_passed
    nodes, kms = ints[base:base + n_alt], floats[4 + n_passed:4 + n_passed + n_alt]
    kinds = ints[base + n_alt:base + 2 * n_alt]
    dest, known_left = chosen[0][0], len(chosen[0]) - 1
    keep = []
    for i, j in enumerate(nodes):
        if j in undated:
            keep.append(i)
        elif j != dest and known_left > 0:
            keep.append(i)
            known_left -= 1
    return ([dest, *(nodes[i] for i in keep)], (chosen[1][0], *(kms[i] for i in keep)),
            [chosen[2][0], *(kinds[i] for i in keep)])

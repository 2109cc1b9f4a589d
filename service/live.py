"""Live worklists: each worker learns of every new ledger event once and hands it to the pages open on it.

Whichever worker or host wrote a change, every worker hears of it from the
database: on PostgreSQL by ``LISTEN`` on the channel the ledger's trigger
notifies for each new event (one connection per worker); on SQLite by reading
one change counter — the newest event's id — every ``poll_seconds`` (one read
per worker, not per page). Either way the worker then reads the new events
once and puts each on the queue of every open page that may see it (the desk
of its origin, of its destination, the desk that redirected it, and the
region's planners and admins). A page holds one connection (server-sent
events, :func:`event_stream`); while nothing happens it costs a parked
coroutine and a keep-alive comment every ``KEEPALIVE_SECONDS``.

    >>> change = Change(event_id=7, number="R20261207-000001", region="quzhou", origin="kh-huabu",
    ...                 destination="kh-people", actor="kh-huabu", action="create", state="requested")
    >>> change.for_desk("kh-people"), change.for_desk("kh-chihuai")
    (True, False)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mednet.ledger import ApiKey
from mednet.ledger.store import events, is_postgresql, referrals

logger = logging.getLogger("mednet.live")
#: The channel the ledger's trigger notifies (migration 0003).
CHANNEL = "mednet_events"
#: Seconds between keep-alive comments on an idle stream (proxies close silent connections).
KEEPALIVE_SECONDS = 25.0
#: Most changes read in one go (the rest on the next turn).
BATCH = 500
#: Changes a page's queue keeps before it is told to reload instead (a page that stopped reading).
QUEUE_SIZE = 100
#: The path every live stream ends with (the service's guard leaves such streams out of its request count).
STREAM_SUFFIX = "/worklist/events"


@dataclass(frozen=True)
class Change:
    """One new event of a referral, as a worklist needs it."""

    event_id: int
    number: str
    region: str
    origin: str
    destination: str
    actor: str | None
    action: str
    state: str

    def for_desk(self, institution: str) -> bool:
        return institution in (self.origin, self.destination) or (self.action == "redirect"
                                                                  and self.actor == institution)

    def seen_by(self, key: ApiKey) -> bool:
        if key.role == "desk":
            return key.region == self.region and self.for_desk(str(key.institution))
        return True


class Subscriber:
    """An open page: its key and the changes waiting for it."""

    def __init__(self, key: ApiKey, region: str) -> None:
        self.key, self.region = key, region
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, change: Change) -> None:
        if change.region != self.region or not change.seen_by(self.key):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:  # the page stopped reading: it reloads on its next turn
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)


def _new_events(engine: Engine, after: int) -> list[Change]:
    e, r = events.c, referrals.c
    query = sa.select(e.id, r.number, r.region, r.origin_id, r.destination_id, e.actor_institution, e.action,
                      e.to_state).join(referrals, r.id == e.referral_id).where(e.id > after).order_by(e.id) \
        .limit(BATCH)
    with engine.connect() as conn:
        return [Change(*row) for row in conn.execute(query).all()]


def newest_event(engine: Engine) -> int:
    """The change counter: the newest event's id (0 for an empty ledger)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())


class ChangeFeed:
    """One per worker: learns of new events from the database and offers each to the subscribed pages."""

    def __init__(self, engine: Engine, *, poll_seconds: float = 1.0) -> None:
        self.engine, self.poll_seconds = engine, poll_seconds
        self.subscribers: set[Subscriber] = set()
        self.last = -1
        self._task: asyncio.Task[None] | None = None
        self.reads = 0  # counter reads (SQLite) or notifications handled (PostgreSQL): for tests and benchmarks

    def subscribe(self, key: ApiKey, region: str) -> Subscriber:
        """A new open page; the feed starts with the first."""
        subscriber = Subscriber(key, region)
        self.subscribers.add(subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mednet live feed")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _deliver(self) -> None:
        """Read the events after the last one delivered and offer them."""
        while True:
            found = await asyncio.to_thread(_new_events, self.engine, self.last)
            for change in found:
                for subscriber in list(self.subscribers):
                    subscriber.offer(change)
                self.last = change.event_id
            if len(found) < BATCH:
                return

    async def _run(self) -> None:
        if self.last < 0:
            self.last = await asyncio.to_thread(newest_event, self.engine)
        while True:
            try:
                if is_postgresql(self.engine):
                    await self._listen()
                else:
                    await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live feed interrupted; retrying in 5 s", exc_info=True)
                await asyncio.sleep(5)

    async def _poll(self) -> None:
        """SQLite: one read of the change counter per ``poll_seconds`` for the whole worker."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            self.reads += 1
            if await asyncio.to_thread(newest_event, self.engine) > self.last:
                await self._deliver()

    async def _listen(self) -> None:
        """PostgreSQL: ``LISTEN`` on one connection; each notification wakes the reading of new events."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            await self._deliver()  # what was written while not listening
            async for _ in conn.notifies():
                self.reads += 1
                await self._deliver()


async def event_stream(feed: ChangeFeed, subscriber: Subscriber) -> AsyncIterator[str]:
    """The page's server-sent events: ``change`` with the referral's number, state and action; ``reload`` when
    it fell behind; a comment every :data:`KEEPALIVE_SECONDS` while idle."""
    try:
        yield "retry: 5000\n\n"
        while True:
            try:
                change = await asyncio.wait_for(subscriber.queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": idle\n\n"
                continue
            if change is None:
                yield "event: reload\ndata: {}\n\n"
                continue
            data = json.dumps({k: v for k, v in asdict(change).items() if k != "actor"}, ensure_ascii=False)
            yield f"event: change\ndata: {data}\n\n"
    finally:
        feed.unsubscribe(subscriber)


__all__ = ["CHANNEL", "STREAM_SUFFIX", "Change", "ChangeFeed", "Subscriber", "event_stream", "newest_event"]

"""The ledger: record referrals and move them through their states, in one transaction each.

Every change runs in one write transaction that (1) claims the request's
idempotency key, (2) locks the referral row, (3) checks the key's rights,
the version (``If-Match``) and the transition (:mod:`mednet.ledger.states`),
(4) applies it, appends its event and raises the version, and (5) stores
the answer under the idempotency key. A refused action rolls everything
back: nothing it touched changes. A retried request with the same key gets
the stored answer, even after a crash between commit and reply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mednet.errors import (
    AlreadySentHome,
    Forbidden,
    IdempotencyConflict,
    InvalidRequest,
    StaleVersion,
    UnknownInstitution,
    UnknownReferral,
    UnknownRegion,
)
from mednet.ledger import slots as slotting
from mednet.ledger.keys import ApiKey, check_live
from mednet.ledger.records import (
    ActionIn,
    EventRecord,
    InstitutionBrief,
    NewReferral,
    PatientOut,
    QuotaIn,
    ReferralPage,
    ReferralRecord,
    SlotClaim,
    SlotView,
)
from mednet.ledger.states import FINAL_STATES, TRANSITIONS, Transition, allowed_actions, check_transition
from mednet.ledger.store import claims, events, idempotency, insert_ignoring_conflict, is_postgresql, referrals, writing
from mednet.ledger.writes import insert_with_event, update_with_event
from mednet.models import Region
from mednet.network import build_network, resolve_institution
from mednet.specialties import resolve_specialty

# Statements of the hot path, built once: SQLAlchemy then skips building and keying them on every call.
_ROW = referrals.select().where(referrals.c.number == sa.bindparam("number"))
_ROW_LOCKED = _ROW.with_for_update()
_PARENT_NUMBER = sa.select(referrals.c.number).where(referrals.c.id == sa.bindparam("rid"))
_DOWN_IN_FORCE = sa.select(referrals.c.number, referrals.c.state).where(
    referrals.c.parent_id == sa.bindparam("pid"), referrals.c.direction == "down",
    referrals.c.state.not_in(sorted(FINAL_STATES)))
_NEXT_ID_PG = sa.text("SELECT nextval(pg_get_serial_sequence('referrals', 'id'))")
_NEXT_ID_SQLITE = sa.select(sa.func.coalesce(sa.func.max(referrals.c.id), 0) + 1)
_UNKNOWN = object()  # a claim not known yet: read it

#: Minutes a hold keeps a slot unless the ledger is told otherwise.
HOLD_MINUTES = 15
#: Days an open referral may stay unchanged (a booked one: past its booked day) before the sweep expires it.
EXPIRE_DAYS = 30
MAX_PAGE = 200
#: A referral's row as read (or as just written).
Row = sa.RowMapping | Mapping[str, Any]
SlotViews = list[SlotView]


class RegionData(Protocol):
    """What the ledger needs of a region: its data and its network (the service's loaded regions fit)."""

    @property
    def region(self) -> Region: ...

    @property
    def G(self) -> nx.Graph: ...


@dataclass(frozen=True)
class LedgerRegion:
    region: Region
    G: nx.Graph

    @classmethod
    def from_region(cls, region: Region) -> LedgerRegion:
        return cls(region, build_network(region))


@dataclass(frozen=True)
class Outcome:
    """An answer and whether it was replayed from an earlier request with the same idempotency key."""

    record: ReferralRecord
    replayed: bool = False
    created: bool = False


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Ledger:
    """Referrals in a database (an engine from :func:`mednet.ledger.store.create_ledger_engine`).

    ``regions`` gives each region's data and network; ``now`` is the clock
    (tests pass a fake one); holds last ``hold_minutes``; a session gives
    ``session_slots`` units where its region does not count them; an open
    referral nobody changes for ``expire_days`` is expired by the sweep
    (:func:`mednet.ledger.sweep.expire_overdue`).
    """

    def __init__(self, engine: Engine, regions: Mapping[str, RegionData], *, now: Callable[[], dt.datetime] = utc_now,
                 hold_minutes: float = HOLD_MINUTES, session_slots: int = slotting.SESSION_SLOTS,
                 expire_days: float = EXPIRE_DAYS):
        self.engine, self.regions, self._clock = engine, regions, now
        self.hold = dt.timedelta(minutes=hold_minutes)
        self.session_slots = session_slots
        self.expire_after = dt.timedelta(days=expire_days)

    def now(self) -> dt.datetime:
        """The clock's time in UTC (moments are stored and read in UTC: :class:`mednet.ledger.store.UtcDateTime`)."""
        return self._clock().astimezone(dt.UTC)

    # ------------------------------------------------------------------ reading

    def get(self, actor: ApiKey, number: str) -> ReferralRecord:
        with self.engine.connect() as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._may_read(actor, row)
            return self._record(conn, row)

    def history(self, actor: ApiKey, number: str) -> list[EventRecord]:
        """The referral's events, oldest first."""
        with self.engine.connect() as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._may_read(actor, row)
            found = conn.execute(events.select().where(events.c.referral_id == row["id"]).order_by(events.c.seq))
            return [EventRecord(**{k: v for k, v in e.items() if k not in ("id", "referral_id")})
                    for e in found.mappings()]

    def list(self, actor: ApiKey, *, states: Iterable[str] = (), institution: str | None = None,
             direction: str | None = None, created_from: dt.date | None = None, created_to: dt.date | None = None,
             after: str | None = None, limit: int = 50) -> ReferralPage:
        """Referrals the key may read, oldest first, filtered; a desk sees those to or from its institution."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest("limit", limit, f"must be between 1 and {MAX_PAGE}")
        r = referrals.c
        query = referrals.select().order_by(r.id).limit(limit + 1)
        if actor.role == "desk":
            query = query.where(r.region == actor.region,
                                sa.or_(r.origin_id == actor.institution, r.destination_id == actor.institution))
        if states := list(states):
            query = query.where(r.state.in_(states))
        if institution:
            query = query.where(sa.or_(r.origin_id == institution, r.destination_id == institution))
        if direction:
            query = query.where(r.direction == direction)
        if created_from:
            query = query.where(r.created_at >= _day_start(slotting.check_day("from", created_from)))
        if created_to:
            query = query.where(r.created_at < _day_start(slotting.check_day("to", created_to) + dt.timedelta(days=1)))
        with self.engine.connect() as conn:
            check_live(conn, actor)
            if after:
                query = query.where(r.id > self._row(conn, after, field="after")["id"])
            rows = conn.execute(query).mappings().all()
            items = [self._record(conn, row) for row in rows[:limit]]
        return ReferralPage(items=tuple(items), next=items[-1].number if len(rows) > limit else None)

    def slots(self, region: str, institution: str, specialty: str, *, first: dt.date | None = None,
              days: int | None = None) -> SlotViews:
        """The session units and quota days of an institution for a specialty from ``first`` (default today)
        through the booking window, with what is free now."""
        data = self._region(region)
        inst = data.region.institution(resolve_institution(data.G, institution))
        code = resolve_specialty(specialty).code
        now = self.now()
        start = slotting.today(now)
        first = slotting.check_day("from", first or start)
        if days is not None and not 0 <= days <= 90:
            raise InvalidRequest("days", days, "must be between 0 and 90")
        last = first + dt.timedelta(days=days if days is not None else data.region.booking_days)
        open_until = start + dt.timedelta(days=data.region.booking_days)
        basis, assumed = slotting.session_basis(inst, code, per_session=self.session_slots)
        units = slotting.session_slots(inst, code, max(first, start), min(last, open_until),
                                       per_session=self.session_slots)
        sessions = [(s, 1, basis) for s in units]
        with self.engine.connect() as conn:
            found = sessions + slotting.quota_slots(conn, region, inst.id, code, first, last, start)
            taken = slotting.taken_counts(conn, [s.text for s, _, _ in found], now)
        return [SlotView(slot=s.text, kind=s.kind, institution=s.institution, specialty=s.specialty, day=s.day,
                         part=s.part, capacity=cap, free=max(cap - taken.get(s.text, 0), 0), basis=why,
                         assumed=assumed and s.kind == "session") for s, cap, why in found]

    # ------------------------------------------------------------------ writing

    def create(self, actor: ApiKey, request: NewReferral, *, routing: Mapping[str, Any] | None = None,
               idempotency_key: str | None = None) -> Outcome:
        """Record a new referral from the desk's institution (state ``requested``).

        ``routing`` is the routing answer (a :class:`mednet.Referral` as JSON) whose
        destination is the proposal; stored as given.
        """
        actor.require("desk")
        data = self._region(actor.region)
        code = resolve_specialty(request.specialty).code
        proposed = routing["destination"]["id"] if routing else None
        if request.destination is None and proposed is None:
            raise InvalidRequest("destination", None, "is required when the referral is not routed (`route: false`)")
        try:
            chosen = resolve_institution(data.G, request.destination) if request.destination else proposed
        except UnknownInstitution as err:
            err.field = "destination"
            raise
        if chosen == actor.institution:
            raise InvalidRequest("destination", request.destination or chosen, "must differ from the referring "
                                 "institution")
        if proposed is not None and chosen != proposed and not request.destination_why:
            raise InvalidRequest("destination_why", None, f"is required when the destination ({chosen}) differs "
                                 f"from the routing proposal ({proposed})")
        values = dict(region=actor.region, origin_id=actor.institution, origin_desk=actor.id, destination_id=chosen,
                      proposed_id=proposed, destination_why=request.destination_why, specialty=code,
                      direction=request.direction, priority=request.priority, reason=request.reason,
                      patient_ref=request.patient.ref, patient_sex=request.patient.sex,
                      patient_birth_year=request.patient.birth_year, routing=dict(routing) if routing else None)
        payload = {"op": "create", **request.model_dump(mode="json"), "proposed": proposed}
        with writing(self.engine) as conn:
            check_live(conn, actor)
            replay = self._claim_key(conn, actor, idempotency_key, payload)
            if replay:
                return replay
            row = self._insert(conn, actor, values, parent_id=None)
            record = self._record(conn, row, claim=None)
            self._store_answer(conn, actor, idempotency_key, 201, record)
        return Outcome(record, created=True)

    def act(self, actor: ApiKey, number: str, action: str, body: ActionIn | None = None, *,
            if_match: int | None = None, idempotency_key: str | None = None) -> Outcome:
        """Take ``action`` on a referral: owner, version and transition checked, event appended.

        ``send_home`` answers with the new down-referral (``created``); every other action with the
        referral itself.
        """
        body = body or ActionIn()
        payload = {"op": action, "number": number, "if_match": if_match, **body.model_dump(mode="json")}
        try:
            return self._act(actor, number, action, body, payload, if_match, idempotency_key)
        except sa.exc.IntegrityError as err:  # the database's own rule, met by a write that passed the check
            if "one_down_referral" not in str(err.orig) and "referrals.parent_id" not in str(err.orig):
                raise
            with self.engine.connect() as conn:
                row = self._row(conn, number)
                found = conn.execute(_DOWN_IN_FORCE, {"pid": row["id"]}).first()
            raise AlreadySentHome(number, found.number if found else "?", found.state if found else "?") from None

    def _act(self, actor: ApiKey, number: str, action: str, body: ActionIn, payload: dict[str, Any],
             if_match: int | None, idempotency_key: str | None) -> Outcome:
        with writing(self.engine) as conn:
            check_live(conn, actor)
            replay = self._claim_key(conn, actor, idempotency_key, payload)
            if replay:
                return replay
            row = self._row(conn, number, lock=True)
            transition = check_transition_for(actor, row, action)
            if if_match is not None and if_match != row["version"]:
                raise StaleVersion(number, if_match, row["version"])
            check_transition(row["state"], action)
            if transition.needs_reason and not body.reason:
                raise InvalidRequest("reason", None, f"is required to {action} a referral")
            now = self.now()
            changes: dict[str, Any] = {}
            data: dict[str, Any] = {}
            created = None
            claim: SlotClaim | object | None = _UNKNOWN  # the referral's claim after the change, where known
            if action == "redirect":
                changes["destination_id"] = data["to"] = self._redirect_target(row, body)
                data["from"] = row["destination_id"]
            elif action in ("hold", "book"):
                claim = self._take(conn, row, body, action, now)
                data["slot"] = changes["slot"] = claim.slot
            elif action in ("cancel", "expire"):
                if released := slotting.release(conn, row["id"]):
                    data["released"] = released
                changes["slot"] = claim = None
            elif action == "send_home":
                created = self._send_home(conn, actor, row, body)
                data["down_referral"] = created["number"]
            to_state = transition.to or row["state"]
            version = row["version"] + 1
            changes.update(state=to_state, version=version, updated_at=now)
            update_with_event(conn, row["id"], row["version"], changes, dict(
                seq=version, action=action, from_state=row["state"], to_state=to_state, actor_key=actor.id,
                actor_institution=actor.institution, at=now, why=body.reason, data=data or None), number=number)
            if created is not None:
                answer = self._record(conn, created, claim=None)
            else:
                answer = self._record(conn, {**row, **changes}, claim=claim)
            self._store_answer(conn, actor, idempotency_key, 201 if created is not None else 200, answer)
        return Outcome(answer, created=created is not None)

    def set_quota(self, actor: ApiKey, region: str, quota: QuotaIn) -> None:
        """Set an institution's referral quota for a specialty (admins only)."""
        actor.require("admin")
        data = self._region(region)
        institution = resolve_institution(data.G, quota.institution)
        with writing(self.engine) as conn:
            check_live(conn, actor)
            slotting.set_quota(conn, region=region, institution=institution,
                               specialty=resolve_specialty(quota.specialty).code, per_day=quota.per_day,
                               release_days=quota.release_days, note=quota.note, now=self.now())

    # ------------------------------------------------------------------ pieces

    def _region(self, region: str | None) -> RegionData:
        found = self.regions.get(region or "")
        if found is None:
            raise UnknownRegion(str(region), known=list(self.regions), where="this ledger")
        return found

    def _row(self, conn: Connection, number: str, *, lock: bool = False, field: str = "number") -> Row:
        row = conn.execute(_ROW_LOCKED if lock else _ROW, {"number": number}).mappings().first()
        if row is None:
            err = UnknownReferral(number, suggestions=[])
            err.field = field
            raise err
        return row

    def _may_read(self, actor: ApiKey, row: Row) -> None:
        if actor.role == "desk" and (actor.region != row["region"]
                                     or actor.institution not in (row["origin_id"], row["destination_id"])):
            raise Forbidden(f"referral {row['number']} is neither to nor from {actor.institution}")

    def _insert(self, conn: Connection, actor: ApiKey, values: dict[str, Any], *, parent_id: int | None) -> Row:
        now = self.now()
        if is_postgresql(conn):
            new_id = conn.execute(_NEXT_ID_PG).scalar_one()
        else:  # the write lock is held (BEGIN IMMEDIATE): no one else can take the same id
            new_id = conn.execute(_NEXT_ID_SQLITE).scalar_one()
        number = f"R{now.astimezone(slotting.CST):%Y%m%d}-{new_id:06d}"
        row = dict(id=new_id, number=number, state="requested", version=1, parent_id=parent_id, created_at=now,
                   updated_at=now, slot=None, **values)
        insert_with_event(conn, row, dict(seq=1, action="create", from_state=None, to_state="requested",
                                          actor_key=actor.id, actor_institution=actor.institution, at=now,
                                          why=values["reason"], data=None))
        return row

    def _redirect_target(self, row: Row, body: ActionIn) -> str:
        if not body.destination:
            raise InvalidRequest("destination", None, "is required to redirect: the institution to send it on to")
        target = resolve_institution(self._region(row["region"]).G, body.destination)
        if target in (row["destination_id"], row["origin_id"]):
            raise InvalidRequest("destination", body.destination, "must be another institution than the referral's "
                                 "current destination and its origin")
        return target

    def _take(self, conn: Connection, row: Row, body: ActionIn, action: str, now: dt.datetime) -> SlotClaim:
        if not body.slot:
            raise InvalidRequest("slot", None, f"is required to {action}: a slot id from the slots endpoint")
        slot = slotting.parse_slot(body.slot)
        if slot.institution != row["destination_id"] or slot.specialty != row["specialty"]:
            raise InvalidRequest("slot", body.slot, f"must be a slot of the destination {row['destination_id']} for "
                                 f"{row['specialty']}")
        capacity = self._check_window(conn, row["region"], slot, now)
        until = now + self.hold if action == "hold" else None
        answer = SlotClaim(slot=slot.text, status="held" if until else "booked", held_until=until)
        # a referral without a slot holds no claim (a claim is made only with the referral's slot set)
        held = slotting.current_claim(conn, row["id"]) if row["slot"] else None
        if held is not None and held["slot"] == slot.text and (
                held["held_until"] is None or held["held_until"] > now):
            if action == "book":
                slotting.confirm(conn, row["id"])
            else:
                conn.execute(claims.update().where(claims.c.referral_id == row["id"]).values(held_until=until))
            return answer
        if held is not None:
            slotting.release(conn, row["id"])
        slotting.take(conn, row["id"], slot, capacity=capacity, now=now, held_until=until)
        return answer

    def _check_window(self, conn: Connection, region: str, slot: slotting.SlotRef, now: dt.datetime) -> int | None:
        """The slot exists and lies in its booking window; returns a quota day's capacity."""
        data = self._region(region)
        start = slotting.today(now)
        if slot.kind == "session":
            last = start + dt.timedelta(days=data.region.booking_days)
            if not start <= slot.day <= last:
                raise slotting.SlotUnavailable(slot.text, f"outside the booking window {start} – {last}")
            inst = data.region.institution(slot.institution)
            known = slotting.session_slots(inst, slot.specialty, slot.day, slot.day, per_session=self.session_slots)
            if slot not in known:
                raise slotting.SlotUnavailable(slot.text, "no such session unit on that day")
            return None
        rule = slotting.quota_rule(conn, region, slot.institution, slot.specialty)
        if rule is None:
            raise slotting.SlotUnavailable(slot.text, "no referral quota is set for this institution and specialty")
        last = start + dt.timedelta(days=rule["release_days"])
        if not start <= slot.day <= last:
            raise slotting.SlotUnavailable(slot.text, f"outside the released window {start} – {last}")
        return rule["per_day"]

    def _send_home(self, conn: Connection, actor: ApiKey, row: Row, body: ActionIn) -> Row:
        """The new down-referral; :class:`AlreadySentHome` while an earlier one is in force (checked under the
        parent's row lock; the database's partial unique index holds the rule whatever writes)."""
        if (found := conn.execute(_DOWN_IN_FORCE, {"pid": row["id"]}).first()) is not None:
            raise AlreadySentHome(row["number"], found.number, found.state)
        data = self._region(row["region"])
        home = resolve_institution(data.G, body.destination) if body.destination else row["origin_id"]
        if home == row["destination_id"]:
            raise InvalidRequest("destination", body.destination, "must be another institution than the hospital "
                                 "sending the patient home")
        values = dict(region=row["region"], origin_id=row["destination_id"], origin_desk=actor.id,
                      destination_id=home, proposed_id=None, destination_why=None,
                      specialty=resolve_specialty(body.specialty or "rehabilitation").code, direction="down",
                      priority="routine", reason=body.reason or "康复回社区 (back to the home community for recovery)",
                      patient_ref=row["patient_ref"], patient_sex=row["patient_sex"],
                      patient_birth_year=row["patient_birth_year"], routing=None)
        return self._insert(conn, actor, values, parent_id=row["id"])

    def _claim_key(self, conn: Connection, actor: ApiKey, key: str | None, payload: dict) -> Outcome | None:
        """Take the idempotency key for this request; an earlier answer to the same request when there is one."""
        if key is None:
            return None
        if not 1 <= len(key) <= 200:
            raise InvalidRequest("Idempotency-Key", key, "must be 1–200 characters")
        fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
        if insert_ignoring_conflict(conn, idempotency, dict(key_id=actor.id, key=key, fingerprint=fingerprint,
                                                            status=0, body={}, at=self.now())):
            return None
        stored = conn.execute(idempotency.select().where(idempotency.c.key_id == actor.id,
                                                         idempotency.c.key == key)).mappings().one()
        if stored["fingerprint"] != fingerprint:
            raise IdempotencyConflict(key)
        return Outcome(ReferralRecord.model_validate(stored["body"]), replayed=True, created=stored["status"] == 201)

    def _store_answer(self, conn: Connection, actor: ApiKey, key: str | None, status: int,
                      record: ReferralRecord) -> None:
        if key is not None:
            conn.execute(idempotency.update().where(idempotency.c.key_id == actor.id, idempotency.c.key == key)
                         .values(status=status, body=record.model_dump(mode="json")))

    def _record(self, conn: Connection, row: Row, *, claim: SlotClaim | object | None = _UNKNOWN) -> ReferralRecord:
        """The referral as answered; ``claim`` when the caller knows it (else it is read when the row has a slot)."""
        region = self.regions.get(row["region"])

        def brief(inst_id: str | None) -> InstitutionBrief | None:
            if inst_id is None:
                return None
            name = region.G.nodes[inst_id]["name"] if region is not None and inst_id in region.G else inst_id
            return InstitutionBrief(id=inst_id, name=name)

        if claim is _UNKNOWN:
            claim = None
            held = slotting.current_claim(conn, row["id"]) if row["slot"] else None
            if held is not None:
                until = held["held_until"] if held["held_until"] else None
                claim = SlotClaim(slot=held["slot"], status="held" if until else "booked", held_until=until)
        parent = None
        if row["parent_id"] is not None:
            parent = conn.execute(_PARENT_NUMBER, {"rid": row["parent_id"]}).scalar_one()
        return ReferralRecord(
            number=row["number"], region=row["region"], state=row["state"], version=row["version"],
            allowed_actions=allowed_actions(row["state"]), origin=brief(row["origin_id"]),
            origin_desk=row["origin_desk"], destination=brief(row["destination_id"]),
            proposed_destination=brief(row["proposed_id"]), destination_why=row["destination_why"],
            specialty=row["specialty"], direction=row["direction"], priority=row["priority"], reason=row["reason"],
            patient=PatientOut(ref=row["patient_ref"], sex=row["patient_sex"], birth_year=row["patient_birth_year"]),
            routing=row["routing"], parent=parent, claim=claim,
            created_at=row["created_at"],
            updated_at=row["updated_at"])


def check_transition_for(actor: ApiKey, row: Row, action: str) -> Transition:
    """The transition, after checking that ``actor`` owns it on this referral (:class:`Forbidden` if not)."""
    transition = TRANSITIONS.get(action)  # type: ignore[call-overload]
    if transition is None:
        return check_transition(row["state"], action)  # unknown action: 409 naming the allowed ones
    if actor.role == "planner":
        raise Forbidden(f"key {actor.id} is a planner key: read-only")
    if transition.owner == "admin":
        actor.require("admin")
        return transition
    actor.require("desk")
    owner = row["origin_id"] if transition.owner == "origin" else row["destination_id"]
    if actor.region != row["region"] or actor.institution != owner:
        side = "referring" if transition.owner == "origin" else "receiving"
        raise Forbidden(f"only the {side} desk ({owner}) may {action} referral {row['number']}; this key is "
                        f"{actor.institution}'s")
    return transition


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=slotting.CST).astimezone(dt.UTC)


__all__ = ["EXPIRE_DAYS", "HOLD_MINUTES", "Ledger", "LedgerRegion", "Outcome", "RegionData"]

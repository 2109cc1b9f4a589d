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
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mednet.errors import (
    AlreadySentHome,
    AttachmentRefused,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InvalidRequest,
    StaleVersion,
    UnknownAttachment,
    UnknownInstitution,
    UnknownReferral,
    UnknownRegion,
)
from mednet.ledger import attachments as filing
from mednet.ledger import bookable
from mednet.ledger import service_levels as levelling
from mednet.ledger import slots as slotting
from mednet.ledger.bookable import DestinationCare
from mednet.ledger.keys import ApiKey, check_live
from mednet.ledger.reasons import check_reason
from mednet.ledger.records import (
    ActionIn,
    AttachmentInfo,
    ClinicalSummary,
    EventRecord,
    InstitutionBrief,
    NewReferral,
    PatientOut,
    QuotaDay,
    QuotaIn,
    QuotaView,
    ReadRecord,
    ReferralPage,
    ReferralRecord,
    SlotClaim,
    SlotView,
)
from mednet.ledger.states import FINAL_STATES, OPEN_STATES, TRANSITIONS, Transition, allowed_actions, check_transition
from mednet.ledger.store import (
    attachments,
    claims,
    events,
    idempotency,
    insert_ignoring_conflict,
    is_postgresql,
    quotas,
    reads,
    referrals,
    summaries,
    writing,
)
from mednet.ledger.walkin import walk_in_care
from mednet.ledger.writes import insert_with_event, update_with_event
from mednet.models import Region
from mednet.network import build_network, resolve_institution
from mednet.specialties import resolve_specialty

# Statements of the hot path, built once: SQLAlchemy then skips building and keying them on every call.
_ROW = referrals.select().where(referrals.c.number == sa.bindparam("number"))
_ROW_LOCKED = _ROW.with_for_update()
_PARENT_NUMBER = sa.select(referrals.c.number).where(referrals.c.id == sa.bindparam("rid"))
#: Seconds a region's service levels are used as read before they are read again (a change takes at most this long).
LEVELS_SECONDS = 5.0
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
QuotaViews = list[QuotaView]
Briefs = list[InstitutionBrief]
ReadRecords = list[ReadRecord]
Attachments = list[AttachmentInfo]
Cares = list[DestinationCare]
Pairs = list[tuple[str, str]]
Numbers = list[str]


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
        self._levels: dict[str, tuple[float, dict[str, levelling.ServiceLevel]]] = {}

    def now(self) -> dt.datetime:
        """The clock's time in UTC (moments are stored and read in UTC: :class:`mednet.ledger.store.UtcDateTime`)."""
        return self._clock().astimezone(dt.UTC)

    # ------------------------------------------------------------------ reading

    def get(self, actor: ApiKey, number: str) -> ReferralRecord:
        with self.engine.connect() as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._may_read(actor, row, conn)
            return self._record(conn, row)

    def history(self, actor: ApiKey, number: str) -> list[EventRecord]:
        """The referral's events, oldest first."""
        with self.engine.connect() as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._may_read(actor, row, conn)
            found = conn.execute(events.select().where(events.c.referral_id == row["id"]).order_by(events.c.seq))
            return [EventRecord(**{k: v for k, v in e.items() if k not in ("id", "referral_id")})
                    for e in found.mappings()]

    def open_for_patient(self, actor: ApiKey, patient_ref: str, specialty: str) -> list[tuple[str, str]]:
        """The desk's open referrals (not yet completed or closed) of this patient id for this specialty, as
        (number, state): the same patient with the same need, to be warned of before referring again."""
        actor.require("desk")
        r = referrals.c
        query = sa.select(r.number, r.state).where(
            r.region == actor.region, r.origin_id == actor.institution, r.patient_ref == patient_ref,
            r.specialty == resolve_specialty(specialty).code,
            r.state.in_(sorted(OPEN_STATES | {"arrived"}))).order_by(r.id)
        with self.engine.connect() as conn:
            return [(n, st) for n, st in conn.execute(query).all()]

    def follow_ups(self, actor: ApiKey, number: str) -> list[tuple[str, str]]:
        """The down-referrals sent home from this referral, as (number, state), oldest first."""
        with self.engine.connect() as conn:
            row = self._row(conn, number)
            self._may_read(actor, row, conn)
            found = conn.execute(sa.select(referrals.c.number, referrals.c.state)
                                 .where(referrals.c.parent_id == row["id"]).order_by(referrals.c.id))
            return [(n, st) for n, st in found.all()]

    def overdue(self, actor: ApiKey, *, region: str | None = None, limit: int = MAX_PAGE) -> list[ReferralRecord]:
        """Open referrals whose service-level clock has run out now (still unanswered, or accepted and still
        unbooked), the longest overdue first; a desk sees its own (incoming and outgoing)."""
        r = referrals.c
        query = referrals.select().where(r.due_at <= self.now(), r.state.in_(sorted(levelling.MEASURE_OF_STATE))) \
            .order_by(r.due_at, r.id).limit(limit)
        if region:
            query = query.where(r.region == region)
        if actor.role == "desk":
            query = query.where(r.region == actor.region, desk_sees(str(actor.institution)))
        with self.engine.connect() as conn:
            return [self._record(conn, row) for row in conn.execute(query).mappings().all()]

    def overdue_counts(self) -> dict[tuple[str, str, str], int]:
        """Overdue referrals now, counted by (region, measure: respond or book, priority) — one GROUP BY."""
        r = referrals.c
        query = sa.select(r.region, r.state, r.priority, sa.func.count()).where(
            r.due_at <= self.now(), r.state.in_(sorted(levelling.MEASURE_OF_STATE))).group_by(
            r.region, r.state, r.priority)
        counts: dict[tuple[str, str, str], int] = {}
        with self.engine.connect() as conn:
            for region, state, priority, count in conn.execute(query).all():
                key = (region, levelling.MEASURE_OF_STATE[state], priority)
                counts[key] = counts.get(key, 0) + count
        return counts

    def list(self, actor: ApiKey, *, states: Iterable[str] = (), institution: str | None = None,
             direction: str | None = None, created_from: dt.date | None = None, created_to: dt.date | None = None,
             after: str | None = None, limit: int = 50) -> ReferralPage:
        """Referrals the key may read, oldest first, filtered; a desk sees those to or from its institution."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest("limit", limit, f"must be between 1 and {MAX_PAGE}")
        r = referrals.c
        query = referrals.select().order_by(r.id).limit(limit + 1)
        if actor.role == "desk":
            query = query.where(r.region == actor.region, desk_sees(str(actor.institution)))
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
            raise InvalidRequest("destination", None, "is required when the referral is not routed (`route: false`)",
                                 code="required")
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
            if request.summary is not None and not request.summary.is_empty():
                conn.execute(summaries.insert().values(referral_id=row["id"], actor_key=actor.id, updated_at=row[
                    "created_at"], **request.summary.model_dump()))
            record = self._record(conn, row, claim=None)
            self._store_answer(conn, actor, idempotency_key, 201, record)
        return Outcome(record, created=True)

    def summary(self, actor: ApiKey, number: str, *, what: str = "summary") -> ClinicalSummary | None:
        """The referral's clinical summary, for the desk of its origin or of its destination only; the read is
        recorded (key, desk, when, ``what``: the page, the 转诊单, the FHIR export) in the same transaction."""
        with writing(self.engine) as conn:
            row = self._row(conn, number)
            self._two_desks(actor, row, "clinical summary")
            found = conn.execute(summaries.select().where(summaries.c.referral_id == row["id"])).mappings().first()
            self._record_read(conn, actor, row, what)
        if found is None:
            return None
        return ClinicalSummary(**{k: found[k] for k in ClinicalSummary.model_fields})

    def reads(self, actor: ApiKey, *, region: str | None = None, limit: int = 1000) -> ReadRecords:
        """The record of reads of clinical summaries and attachments, newest first (admins only)."""
        actor.require("admin")
        r, q = reads.c, referrals.c
        query = sa.select(r.at, r.key_id, r.institution, q.number, r.what).join(referrals, q.id == r.referral_id) \
            .order_by(r.id.desc()).limit(limit)
        if region:
            query = query.where(q.region == region)
        with self.engine.connect() as conn:
            return [ReadRecord(at=(at), key_id=key, institution=inst, referral=number, what=what)
                    for at, key, inst, number, what in conn.execute(query).all()]

    def attach(self, actor: ApiKey, number: str, name: str, content: bytes, *, content_type: str | None = None,
               max_bytes: int = filing.MAX_BYTES) -> AttachmentInfo:
        """Attach a file (PDF, PNG or JPEG, checked by its content: :mod:`mednet.ledger.attachments`) to a
        referral, for one of its two desks; the same file twice, or more than
        :data:`~mednet.ledger.attachments.MAX_PER_REFERRAL` files, is refused."""
        checked = filing.check_file(name, content_type, content, max_bytes=max_bytes)
        a = attachments.c
        with writing(self.engine) as conn:
            check_live(conn, actor)
            row = self._row(conn, number, lock=True)
            self._two_desks(actor, row, "attachments")
            held = conn.execute(sa.select(a.id, a.sha256).where(a.referral_id == row["id"])).all()
            if any(sha == checked.sha256 for _, sha in held):
                raise AttachmentRefused(checked.name, "is already attached to this referral (same SHA-256)",
                                        "已经上传过（内容相同）")
            if len(held) >= filing.MAX_PER_REFERRAL:
                raise AttachmentRefused(checked.name, f"is one file too many: a referral holds at most "
                                        f"{filing.MAX_PER_REFERRAL}", f"超出数量：每张转诊单最多 "
                                        f"{filing.MAX_PER_REFERRAL} 个附件")
            now = self.now()
            new_id = conn.execute(attachments.insert().values(
                referral_id=row["id"], name=checked.name, media_type=checked.media_type, size=checked.size,
                sha256=checked.sha256, content=content, actor_key=actor.id, actor_institution=actor.institution,
                at=now).returning(a.id)).scalar_one()
        return AttachmentInfo(id=new_id, referral=number, name=checked.name, media_type=checked.media_type,
                              size=checked.size, sha256=checked.sha256, at=now, institution=actor.institution)

    def attachments(self, actor: ApiKey, number: str, *, what: str | None = "attachments") -> Attachments:
        """The referral's attachments (without their content), oldest first, for its two desks only; the read
        is recorded as ``what`` (None: not recorded, when the caller records the read of the page showing them)."""
        a = attachments.c
        with writing(self.engine) as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._two_desks(actor, row, "attachments")
            found = conn.execute(sa.select(a.id, a.name, a.media_type, a.size, a.sha256, a.at, a.actor_institution)
                                 .where(a.referral_id == row["id"]).order_by(a.id)).all()
            if what is not None:
                self._record_read(conn, actor, row, what)
        return [AttachmentInfo(id=i, referral=number, name=n, media_type=m, size=z, sha256=h, at=at, institution=inst)
                for i, n, m, z, h, at, inst in found]

    def attachment(self, actor: ApiKey, number: str, attachment_id: int) -> tuple[AttachmentInfo, bytes]:
        """One attachment with its content, for the referral's two desks only; the read is recorded."""
        a = attachments.c
        with writing(self.engine) as conn:
            check_live(conn, actor)
            row = self._row(conn, number)
            self._two_desks(actor, row, "attachments")
            found = conn.execute(attachments.select().where(a.referral_id == row["id"], a.id == attachment_id)
                                 ).mappings().first()
            if found is None:
                raise UnknownAttachment(str(attachment_id), where=f"referral {number}", suggestions=[])
            self._record_read(conn, actor, row, f"attachment {attachment_id}")
        info = AttachmentInfo(id=found["id"], referral=number, name=found["name"], media_type=found["media_type"],
                              size=found["size"], sha256=found["sha256"], at=found["at"],
                              institution=found["actor_institution"])
        return info, bytes(found["content"])

    def _two_desks(self, actor: ApiKey, row: Row, what: str) -> None:
        """Only the desks of the referral's origin and destination read or add its clinical record."""
        actor.require("desk")
        if actor.region != row["region"] or actor.institution not in (row["origin_id"], row["destination_id"]):
            raise Forbidden(f"{what} of referral {row['number']}: for its two desks only", reason="not_party")

    def _record_read(self, conn: Connection, actor: ApiKey, row: Row, what: str) -> None:
        conn.execute(reads.insert().values(at=self.now(), key_id=actor.id, institution=actor.institution,
                                           referral_id=row["id"], what=what))

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
            if transition.needs_reason and not (body.reason or body.reason_code):
                raise InvalidRequest("reason", None, f"is required to {action} a referral: a reason_code or words",
                                     rule_zh="须选择或填写理由", code="required")
            reason_code = check_reason(action, body.reason_code, body.reason)
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
            elif action == "arrive":
                data.update(self._arrival(conn, row, transition, body, now))
                if row["state"] == "accepted":  # a walk-in: a hold, if any, is given back
                    if released := slotting.release(conn, row["id"]):
                        data["released"] = released
                    changes["slot"] = claim = None
            elif action == "send_home":
                created = self._send_home(conn, actor, row, body)
                data["down_referral"] = created["number"]
            if action in ("accept", "reject"):  # each at most once in a referral's life (indicators read them)
                changes["answered_at"] = now
            elif action == "book":
                changes["booked_at"] = now
            to_state = transition.to or row["state"]
            version = row["version"] + 1
            changes.update(state=to_state, version=version, updated_at=now)
            if to_state != row["state"] or action == "redirect":  # a new state, or a new desk: a new clock
                changes.update(state_since=now, due_at=self.due_at(conn, row["region"], to_state, row["priority"], now))
            update_with_event(conn, row["id"], row["version"], changes, dict(
                seq=version, action=action, from_state=row["state"], to_state=to_state, actor_key=actor.id,
                actor_institution=actor.institution, at=now, why=body.reason, data=data or None,
                reason_code=reason_code), number=number)
            if created is not None:
                answer = self._record(conn, created, claim=None)
            else:
                answer = self._record(conn, {**row, **changes}, claim=claim)
            self._store_answer(conn, actor, idempotency_key, 201 if created is not None else 200, answer)
        return Outcome(answer, created=created is not None)

    def next_destinations(self, actor: ApiKey, number: str) -> Briefs:
        """After a rejection: the capable institutions of the stored routing answer not yet tried (the proposal,
        then its alternatives in the policy's order), leaving out every destination this referral and those it
        replaces already had."""
        with self.engine.connect() as conn:
            row = self._row(conn, number)
            self._may_read(actor, row, conn)
            tried = set(self._tried(conn, row))
        routing = row["routing"] or {}
        offered = [routing.get("destination") or {}] + [a.get("institution") or {} for a in
                                                          routing.get("alternatives") or ()]
        found: dict[str, InstitutionBrief] = {}
        for inst in offered:
            if inst.get("id") and inst["id"] not in tried and inst["id"] != row["origin_id"]:
                found.setdefault(inst["id"], InstitutionBrief(id=inst["id"], name=inst.get("name") or inst["id"]))
        return list(found.values())

    def _tried(self, conn: Connection, row: Row) -> Numbers:
        """Every destination this referral had (redirects included) and those of the referrals it replaces."""
        tried: Numbers = []
        current: Row | None = row
        while current is not None:
            tried.append(current["destination_id"])
            for data in conn.execute(sa.select(events.c.data).where(events.c.referral_id == current["id"],
                                                                     events.c.action == "redirect")).scalars():
                tried += [v for k, v in (data or {}).items() if k in ("from", "to")]
            replaced = current.get("replaces_id")
            current = conn.execute(referrals.select().where(referrals.c.id == replaced)).mappings().first() \
                if replaced is not None else None
        return tried

    def rerefer(self, actor: ApiKey, number: str, destination: str, *, idempotency_key: str | None = None) -> Outcome:
        """Refer a rejected referral again, in one step, to ``destination`` (one of :meth:`next_destinations`): a
        new referral with the same patient, need and routing answer, linked to the rejected one (``replaces``);
        only the referring desk, only once the referral is rejected."""
        actor.require("desk")
        old = self.get(actor, number)
        if actor.institution != old.origin.id:
            raise Forbidden(f"only the referring desk ({old.origin.id}) may refer {number} again", reason="origin_only")
        if old.state != "rejected":
            raise IllegalTransition(old.state, "rerefer", old.allowed_actions)
        offered = {i.id for i in self.next_destinations(actor, number)}
        data = self._region(old.region)
        chosen = resolve_institution(data.G, destination, field="destination")
        if chosen not in offered:
            raise InvalidRequest("destination", destination, "must be a capable institution of the referral's "
                                 "routing answer not yet tried: " + (", ".join(sorted(offered)) or "none left"),
                                 rule_zh="须为路由结果中尚未试过的有能力机构", code="not_offered")
        proposed = (old.routing or {}).get("destination", {}).get("id")
        values = dict(region=old.region, origin_id=old.origin.id, origin_desk=actor.id, destination_id=chosen,
                      proposed_id=proposed,
                      destination_why=f"原转诊单 {number} 被{old.destination.name}拒绝，改转下一家",
                      specialty=old.specialty, direction=old.direction, priority=old.priority, reason=old.reason,
                      patient_ref=old.patient.ref, patient_sex=old.patient.sex,
                      patient_birth_year=old.patient.birth_year, routing=old.routing)
        payload = {"op": "rerefer", "number": number, "destination": chosen}
        with writing(self.engine) as conn:
            check_live(conn, actor)
            replay = self._claim_key(conn, actor, idempotency_key, payload)
            if replay:
                return replay
            old_row = self._row(conn, number)
            row = self._insert(conn, actor, {**values, "replaces_id": old_row["id"]}, parent_id=None)
            record = self._record(conn, row, claim=None)
            self._store_answer(conn, actor, idempotency_key, 201, record)
        return Outcome(record, created=True)

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

    def quotas(self, region: str, *, institution: str | None = None) -> QuotaViews:
        """The region's referral quotas (of one institution: id, name or alias), each with its released days from
        today: units, taken (booked, or held and not lapsed) and free."""
        data = self._region(region)
        q = quotas.c
        query = quotas.select().where(q.region == region).order_by(q.institution, q.specialty)
        if institution:
            query = query.where(q.institution == resolve_institution(data.G, institution))
        now = self.now()
        start = slotting.today(now)
        found = []
        with self.engine.connect() as conn:
            for rule in conn.execute(query).mappings().all():
                days = [slotting.SlotRef("quota", rule["institution"], rule["specialty"],
                                         start + dt.timedelta(days=n)) for n in range(rule["release_days"] + 1)]
                taken = slotting.taken_counts(conn, [d.text for d in days], now)
                name = data.G.nodes[rule["institution"]]["name"] if rule["institution"] in data.G else rule[
                    "institution"]
                found.append(QuotaView(
                    region=region, institution=InstitutionBrief(id=rule["institution"], name=name),
                    specialty=rule["specialty"], per_day=rule["per_day"], release_days=rule["release_days"],
                    note=rule["note"], updated_at=(rule["updated_at"]),
                    days=tuple(QuotaDay(day=d.day, capacity=rule["per_day"], used=taken.get(d.text, 0),
                                        free=max(rule["per_day"] - taken.get(d.text, 0), 0)) for d in days)))
        return found

    def destination_care(self, actor: ApiKey) -> Cares:
        """How the desk's destinations take referrals, per specialty (:mod:`mednet.ledger.bookable`): those that
        publish no bookable care first, with the contact to ask."""
        actor.require("desk")
        data = self._region(actor.region)
        r, q = referrals.c, quotas.c
        with self.engine.connect() as conn:
            check_live(conn, actor)
            referred = conn.execute(sa.select(r.destination_id, r.specialty).where(
                r.region == actor.region, r.origin_id == actor.institution).distinct()).all()
            rules = conn.execute(quotas.select().where(q.region == actor.region)).mappings().all()
        return bookable.destination_care(data.region, str(actor.institution), [(d, s) for d, s in referred],
                                         {(rule["institution"], rule["specialty"]): dict(rule) for rule in rules})

    def service_levels(self, region: str) -> dict[str, levelling.ServiceLevel]:
        """The region's service level per priority (its own settings over the defaults)."""
        self._region(region)
        with self.engine.connect() as conn:
            return dict(levelling.read_levels(conn, region))

    def set_service_level(self, actor: ApiKey, region: str, priority: str, measure: str,
                          allowance: levelling.Allowance | None, *, note: str | None = None) -> None:
        """Set one allowance of a region's service levels, or with ``allowance=None`` go back to the default
        (admins only). Referrals whose clock already runs keep their end; the next clock started uses it."""
        actor.require("admin")
        self._region(region)
        with writing(self.engine) as conn:
            if allowance is None:
                levelling.reset_level(conn, region=region, priority=priority, measure=measure)
            else:
                levelling.set_level(conn, region=region, priority=priority, measure=measure, allowance=allowance,
                                    note=note, now=self.now())
        self._levels.pop(region, None)

    def due_at(self, conn: Connection, region: str, state: str, priority: str,
               since: dt.datetime) -> dt.datetime | None:
        """When a clock started at ``since`` in ``state`` runs out, by the region's levels (read at most every
        :data:`LEVELS_SECONDS` per process)."""
        if state not in levelling.MEASURE_OF_STATE:
            return None
        cached = self._levels.get(region)
        clock = time.monotonic()
        if cached is None or clock - cached[0] > LEVELS_SECONDS:
            cached = self._levels[region] = (clock, dict(levelling.read_levels(conn, region)))
        return levelling.due_at(state, priority, since, cached[1])

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

    def _may_read(self, actor: ApiKey, row: Row, conn: Connection | None = None) -> None:
        """A desk reads the referrals to or from its institution, and those it passed on (redirected)."""
        if actor.role == "desk" and (actor.region != row["region"]
                                     or actor.institution not in (row["origin_id"], row["destination_id"])) \
                and not (conn is not None and actor.region == row["region"]
                         and passed_on(conn, row["id"], str(actor.institution))):
            raise Forbidden(f"referral {row['number']} is neither to nor from {actor.institution}", reason="not_party")

    def _insert(self, conn: Connection, actor: ApiKey, values: dict[str, Any], *, parent_id: int | None) -> Row:
        now = self.now()
        if is_postgresql(conn):
            new_id = conn.execute(_NEXT_ID_PG).scalar_one()
        else:  # the write lock is held (BEGIN IMMEDIATE): no one else can take the same id
            new_id = conn.execute(_NEXT_ID_SQLITE).scalar_one()
        number = f"R{now.astimezone(slotting.CST):%Y%m%d}-{new_id:06d}"
        values.setdefault("replaces_id", None)
        values.setdefault("answered_at", None)
        values.setdefault("booked_at", None)
        row = dict(id=new_id, number=number, state="requested", version=1, parent_id=parent_id, created_at=now,
                   updated_at=now, slot=None, state_since=now,
                   due_at=self.due_at(conn, values["region"], "requested", values["priority"], now), **values)
        insert_with_event(conn, row, dict(seq=1, action="create", from_state=None, to_state="requested",
                                          actor_key=actor.id, actor_institution=actor.institution, at=now,
                                          why=values["reason"], data=None, reason_code=None))
        return row

    def _redirect_target(self, row: Row, body: ActionIn) -> str:
        if not body.destination:
            raise InvalidRequest("destination", None, "is required to redirect: the institution to send it on to",
                                 code="required")
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
                raise slotting.SlotUnavailable(slot.text, f"outside the booking window {start} – {last}",
                                               code="outside_window")
            inst = data.region.institution(slot.institution)
            known = slotting.session_slots(inst, slot.specialty, slot.day, slot.day, per_session=self.session_slots)
            if slot not in known:
                raise slotting.SlotUnavailable(slot.text, "no such session unit on that day", code="no_session")
            return None
        rule = slotting.quota_rule(conn, region, slot.institution, slot.specialty)
        if rule is None:
            raise slotting.SlotUnavailable(slot.text, "no referral quota is set for this institution and specialty",
                                           code="no_quota")
        last = start + dt.timedelta(days=rule["release_days"])
        if not start <= slot.day <= last:
            raise slotting.SlotUnavailable(slot.text, f"outside the released window {start} – {last}",
                                           code="outside_window")
        return rule["per_day"]

    def _arrival(self, conn: Connection, row: Row, transition: Transition, body: ActionIn,
                 now: dt.datetime) -> dict[str, Any]:
        """What an arrival records; refused without a booking unless the destination has walk-in care
        (:mod:`mednet.ledger.walkin`), and before the booked day unless a reason is given."""
        if row["state"] in transition.walk_in_from:
            data = self._region(row["region"])
            inst = data.region.institution(row["destination_id"]) if row["destination_id"] in data.G else None
            walk_in = walk_in_care(inst, row["specialty"], priority=row["priority"], direction=row["direction"])
            if walk_in is None:
                raise IllegalTransition(row["state"], "arrive",
                                        tuple(a for a in allowed_actions(row["state"]) if a != "arrive"))
            return {"walk_in": walk_in}
        if row["slot"]:
            day = slotting.parse_slot(row["slot"]).day
            if slotting.today(now) < day:
                if not body.reason:
                    raise InvalidRequest("reason", None, f"is required to mark arrival before the booked day {day}",
                                         rule_zh=f"提前到诊（预约日为 {day}）须写明理由", code="early_arrival")
                return {"early": day.isoformat()}
        return {}

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
                      priority="routine", reason=body.reason or "康复回社区",
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
        parent = replaces = None
        if row["parent_id"] is not None:
            parent = conn.execute(_PARENT_NUMBER, {"rid": row["parent_id"]}).scalar_one()
        if row.get("replaces_id") is not None:
            replaces = conn.execute(_PARENT_NUMBER, {"rid": row["replaces_id"]}).scalar_one()
        return ReferralRecord(
            number=row["number"], region=row["region"], state=row["state"], version=row["version"],
            allowed_actions=allowed_actions(row["state"]), origin=brief(row["origin_id"]),
            origin_desk=row["origin_desk"], destination=brief(row["destination_id"]),
            proposed_destination=brief(row["proposed_id"]), destination_why=row["destination_why"],
            specialty=row["specialty"], direction=row["direction"], priority=row["priority"], reason=row["reason"],
            patient=PatientOut(ref=row["patient_ref"], sex=row["patient_sex"], birth_year=row["patient_birth_year"]),
            routing=row["routing"], parent=parent, claim=claim, replaces=replaces,
            created_at=row["created_at"], updated_at=row["updated_at"],
            state_since=row.get("state_since"), due_at=row.get("due_at"))


def check_transition_for(actor: ApiKey, row: Row, action: str) -> Transition:
    """The transition, after checking that ``actor`` owns it on this referral (:class:`Forbidden` if not)."""
    transition = TRANSITIONS.get(action)  # type: ignore[call-overload]
    if transition is None:
        return check_transition(row["state"], action)  # unknown action: 409 naming the allowed ones
    if actor.role == "planner":
        raise Forbidden(f"key {actor.id} is a planner key: read-only", reason="planner")
    if transition.owner == "admin":
        actor.require("admin")
        return transition
    actor.require("desk")
    owner = row["origin_id"] if transition.owner == "origin" else row["destination_id"]
    if actor.region != row["region"] or actor.institution != owner:
        side = "referring" if transition.owner == "origin" else "receiving"
        raise Forbidden(f"only the {side} desk ({owner}) may {action} referral {row['number']}; this key is "
                        f"{actor.institution}'s", reason=f"{transition.owner}_only")
    return transition


_PASSED_ON = sa.select(events.c.referral_id).where(events.c.referral_id == sa.bindparam("rid"),
                                                  events.c.actor_institution == sa.bindparam("inst"),
                                                  events.c.action == "redirect").limit(1)


def passed_on(conn: Connection, referral_id: int, institution: str) -> bool:
    """True when ``institution``'s desk redirected the referral onward (it keeps sight of it, read-only)."""
    return conn.execute(_PASSED_ON, {"rid": referral_id, "inst": institution}).first() is not None


def desk_sees(institution: str) -> sa.ColumnElement[bool]:
    """The referrals a desk reads: to or from its institution, or passed on by it (a redirect)."""
    r = referrals.c
    redirected = sa.select(events.c.referral_id).where(events.c.actor_institution == institution,
                                                         events.c.action == "redirect")
    return sa.or_(r.origin_id == institution, r.destination_id == institution, r.id.in_(redirected))


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=slotting.CST).astimezone(dt.UTC)


__all__ = ["EXPIRE_DAYS", "HOLD_MINUTES", "Ledger", "LedgerRegion", "Outcome", "RegionData"]

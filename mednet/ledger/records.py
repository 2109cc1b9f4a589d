"""Values that cross the ledger's boundary: what a desk sends, and what the ledger answers.

Frozen pydantic models, shared by the library, the CLI and the service (which
documents them in its OpenAPI schema).

The patient is a pseudonymous id chosen by the referring desk plus the least
a receiving desk needs (sex, year of birth). A national ID number (居民身份证号)
is refused, not hashed: it is not needed to route, book or follow a referral,
and an unsalted or locally salted hash of an 18-digit number with a checksum
can be reversed by trying them all. Every text field of a write model
follows :mod:`mednet.inputs`' rule: one that holds an ID number (however
written) or a control character is rejected with a 422.

>>> PatientIn(ref="HB-2024-0192", sex="female", birth_year=1956).ref
'HB-2024-0192'
>>> PatientIn(ref="11010519491231002X")
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for PatientIn
ref
  Value error, `ref` looks like a national ID number (居民身份证号); the ledger does not store them: \
use the desk's own pseudonymous patient id, got '(not repeated)' [type=value_error, ...]
...
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    ValidationInfo,
    field_validator,
)

from mednet.inputs import MULTILINE_PATTERN, TEXT_PATTERN, check_stored_text, state_text_rule
from mednet.ledger.states import Action, State

Direction = Literal["up", "down", "emergency"]
Priority = Literal["routine", "urgent", "emergency"]
FreeText = Annotated[str, Field(min_length=1, max_length=2000)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _In(_Frozen):
    """A write model: every text field passes :mod:`mednet.inputs`' rule (no control characters, tab and line
    breaks only in the fields of ``MULTILINE``; no national ID number however written)."""

    MULTILINE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        """The schema states the rule as patterns (the ID number rule is the validator's alone)."""
        json_schema = handler(core_schema)
        for name, prop in handler.resolve_ref_schema(json_schema).get("properties", {}).items():
            state_text_rule(prop, MULTILINE_PATTERN if name in cls.MULTILINE else TEXT_PATTERN)
        return json_schema

    @field_validator("*", mode="after")
    @classmethod
    def _text_rule(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name is not None:
            check_stored_text(info.field_name, value, multiline=info.field_name in cls.MULTILINE)
        return value


#: The latest year of birth taken (the year the ledger was started in: no one is born in the future).
THIS_YEAR = dt.date.today().year


class PatientIn(_In):
    """The patient, pseudonymously: the referring desk's own id plus the minimum the receiving desk needs."""

    ref: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.\-:/#]+$",
                              description="the referring desk's pseudonymous patient id (never a national ID)")]
    sex: Literal["female", "male", "unknown"] = "unknown"
    birth_year: Annotated[int, Strict()] | None = Field(
        None, ge=1900, le=THIS_YEAR, description=f"1900–{THIS_YEAR}, the integer literal only (`1980`; `\"1980\"` "
        "and `1980.0` are refused)", json_schema_extra={"x-mednet-integer-literal": True})


#: An ICD-10 code's shape: a letter, two digits, and optionally a dot with up to four more characters (the
#: national clinical edition's extensions such as ``J18.900x001`` included). mednet ships no code list: the
#: shape is checked, and the text beside the code carries its meaning.
ICD10 = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4}(?:[x+][0-9]{3})?)?")
#: The same shape as the document states it (before the code is trimmed and upper-cased).
ICD10_PATTERN = r"^ *[A-Za-z][0-9]{2}(?:\.[0-9A-Za-z]{1,4}(?:[xX+][0-9]{3})?)? *$"


def _icd10(code: str) -> str:
    code = re.sub(r"X(?=[0-9]{3}$)", "x", code.strip(" ").upper())
    if not ICD10.fullmatch(code):
        raise ValueError("must be an ICD-10 code such as K35.8 or J18.900x001 (a letter, two digits, then "
                         "optionally a dot and up to four characters)")
    return code


SummaryText = Annotated[str, Field(min_length=1, max_length=4000)]


class ClinicalSummary(_In):
    """The clinical summary a receiving doctor needs (the 转诊记录 items of WS 445.16): the working diagnosis
    with its ICD-10 code and text, the history, the main findings, the treatment so far and what the referral
    is for. Read only by the two desks; every read is recorded.

    >>> ClinicalSummary(diagnosis_code="k35.8", diagnosis_text="急性阑尾炎").diagnosis_code
    'K35.8'
    """

    MULTILINE = frozenset({"diagnosis_text", "history", "findings", "treatment", "purpose"})

    diagnosis_code: Annotated[str, AfterValidator(_icd10)] | None = Field(
        None, max_length=16, description="初步诊断: the ICD-10 code (its shape is checked)",
        json_schema_extra={"pattern": ICD10_PATTERN})
    diagnosis_text: SummaryText | None = Field(None, description="初步诊断: the diagnosis in words")
    history: SummaryText | None = Field(None, description="病情摘要")
    findings: SummaryText | None = Field(None, description="主要检查结果")
    treatment: SummaryText | None = Field(None, description="治疗经过")
    purpose: SummaryText | None = Field(None, description="转诊目的")

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class NewReferral(_In):
    """A referral to record (转诊申请). The origin is the desk's own institution.

    Leave out ``destination`` to take the routing answer's destination; give
    one that differs from it (or record without routing) with ``destination_why``.
    """

    MULTILINE = frozenset({"reason", "destination_why"})

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={
        # a referral recorded without routing names its destination (the validator's rule, stated)
        "if": {"properties": {"route": {"const": False}}, "required": ["route"]},
        "then": {"required": ["destination"], "properties": {"destination": {"type": "string"}}},
        "examples": [{
        "specialty": "儿科", "direction": "up", "priority": "routine", "reason": "反复高热三天，需儿科会诊",
        "patient": {"ref": "HB-2024-0192", "sex": "female", "birth_year": 2019}}]})

    specialty: str = Field(min_length=1, max_length=100, description="the care needed: code, label or alias")
    direction: Direction = Field("up", description="`up` 上转, `down` 下转, `emergency` 急")
    priority: Priority = "routine"
    reason: FreeText = Field(description="why the patient is referred (转诊原因)")
    patient: PatientIn
    route: bool = Field(True, description="route the referral now and store the answer as the proposal")
    when: dt.datetime | None = Field(None, description="for routing: from when the visit can be booked")
    destination: str | None = Field(None, min_length=1, max_length=200,
                                    description="the chosen destination (id, name or alias); default: the proposal")
    destination_why: FreeText | None = Field(None, description="why the chosen destination differs from the proposal")
    summary: ClinicalSummary | None = Field(None, description="the clinical summary (转诊记录) for the receiving desk")


class ActionIn(_In):
    """A transition's body; which fields are needed depends on the action (see each endpoint)."""

    MULTILINE = frozenset({"reason"})

    reason: FreeText | None = Field(None, description="why, in words (required to reject or redirect unless "
                                    "`reason_code` is given; required with `reason_code: other`)")
    reason_code: str | None = Field(None, max_length=32, description="why, as a code of the reason list "
                                    "(`GET /referrals/reasons`): reject, redirect, cancel and expire take one")
    slot: str | None = Field(None, max_length=300, description="the slot id to hold or book (see the slots endpoint)")
    destination: str | None = Field(None, min_length=1, max_length=200,
                                    description="redirect: the institution to send the referral on to; send_home: "
                                    "where the patient goes home to (default: the referral's origin)")
    specialty: str | None = Field(None, min_length=1, max_length=100,
                                  description="send_home: the follow-up care (default: rehabilitation)")


class InstitutionBrief(_Frozen):
    id: str
    name: str


class PatientOut(_Frozen):
    ref: str
    sex: str | None = None
    birth_year: int | None = None


class SlotClaim(_Frozen):
    """The slot a referral holds or booked."""

    slot: str
    status: Literal["held", "booked"]
    held_until: dt.datetime | None = None


class ReferralRecord(_Frozen):
    """A referral (转诊单) as stored, with the actions its state allows now."""

    number: str = Field(description="unique, human-readable: `R<yyyymmdd>-<n>`")
    region: str
    state: State
    version: int = Field(description="raised by every change; the `ETag` (send it back as `If-Match`)")
    allowed_actions: tuple[Action, ...]
    origin: InstitutionBrief
    origin_desk: str = Field(description="id of the key that created it")
    destination: InstitutionBrief
    proposed_destination: InstitutionBrief | None = None
    destination_why: str | None = None
    specialty: str
    direction: Direction
    priority: Priority
    reason: str
    patient: PatientOut
    routing: dict[str, Any] | None = Field(None, description="the routing answer as given when recorded")
    parent: str | None = Field(None, description="for a down-referral: the referral it follows")
    claim: SlotClaim | None = None
    replaces: str | None = Field(None, description="a re-referral: the rejected referral it replaces")
    created_at: dt.datetime
    updated_at: dt.datetime
    state_since: dt.datetime | None = Field(None, description="when the referral entered its state")
    due_at: dt.datetime | None = Field(None, description="when its service level runs out in this state (respond "
                                       "while waiting, book once accepted); none in other states")


class EventRecord(_Frozen):
    """One change of a referral: who, when, from which state to which, and why."""

    seq: int
    action: str
    from_state: State | None
    to_state: State
    actor_key: str
    actor_institution: str | None
    at: dt.datetime
    why: str | None = None
    data: dict[str, Any] | None = None
    reason_code: str | None = None


class SlotView(_Frozen):
    """A slot in a booking window: a session unit or a quota day, and how much of it is free."""

    slot: str
    kind: Literal["session", "quota"]
    institution: str
    specialty: str
    day: dt.date
    part: str | None = None
    capacity: int
    free: int
    basis: str = Field("", description="where the capacity comes from: the capability's weekly_slots and its "
                       "source, the referral quota an admin set, or the assumed units per session")
    assumed: bool = Field(False, description="the capacity is an assumption (MEDNET_SESSION_SLOTS units a session, "
                          "the region giving no weekly_slots), not a published figure")


class ReferralPage(_Frozen):
    """A page of referrals, oldest first; pass ``next`` as ``after`` for the following page."""

    items: tuple[ReferralRecord, ...]
    next: str | None = None


class QuotaIn(_In):
    """A referral quota (号源) set aside by an institution for a specialty."""

    MULTILINE = frozenset({"note"})

    institution: str = Field(min_length=1, max_length=200)
    specialty: str = Field(min_length=1, max_length=100)
    per_day: int = Field(ge=0, le=10000, description="units a day kept for referrals")
    release_days: int = Field(5, ge=0, le=90, description="days ahead a day's units are released")
    note: str | None = Field(None, max_length=500, description="where the figure comes from")


class QuotaDay(_Frozen):
    """One released day of a referral quota: its units, how many are taken (booked, or held and not lapsed)."""

    day: dt.date
    capacity: int
    used: int
    free: int


class QuotaView(_Frozen):
    """A referral quota (号源) as set, with its released days from today."""

    region: str
    institution: InstitutionBrief
    specialty: str
    per_day: int
    release_days: int
    note: str | None = None
    updated_at: dt.datetime
    days: tuple[QuotaDay, ...] = ()


class ReadRecord(_Frozen):
    """One read of a referral's clinical summary or attachments: which key and desk, when, what."""

    at: dt.datetime
    key_id: str
    institution: str | None
    referral: str
    what: str


class AttachmentInfo(_Frozen):
    """An attachment of a referral (its content is read separately, and every read is recorded)."""

    id: int
    referral: str
    name: str = Field(description="the file's own name, cleaned")
    media_type: Literal["application/pdf", "image/png", "image/jpeg"] = Field(description="judged by the content")
    size: int = Field(description="bytes")
    sha256: str = Field(description="the content's SHA-256, hexadecimal")
    at: dt.datetime
    institution: str | None = Field(None, description="the desk's institution that attached it")

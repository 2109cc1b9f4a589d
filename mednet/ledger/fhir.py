"""A referral as FHIR R4 resources: a ServiceRequest (the referral) and a Task (its workflow state).

Validated with ``fhir.resources``' R4B models (FHIR 4.3.0): the maintained
releases of that library carry R5, R4B and STU3, and ServiceRequest and Task
are the same in R4B as in R4 (4.0.1), so a document valid here is valid R4.
Codes of mednet's own vocabularies use ``urn:mednet:*`` systems.

>>> STATUS["booked"], TASK_STATUS["booked"], TASK_STATUS["redirected"]
('active', 'in-progress', 'requested')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from mednet.ledger.reasons import REASON_OF
from mednet.ledger.records import EventRecord, InstitutionBrief, ReferralRecord
from mednet.specialties import resolve_specialty

#: Referral state → ServiceRequest.status.
STATUS = {"requested": "active", "redirected": "active", "accepted": "active", "booked": "active",
          "arrived": "active", "completed": "completed", "rejected": "revoked", "cancelled": "revoked",
          "expired": "revoked"}
#: Referral state → Task.status (the exact state is also kept in ``Task.businessStatus``).
TASK_STATUS = {"requested": "requested", "redirected": "requested", "accepted": "accepted", "booked": "in-progress",
               "arrived": "in-progress", "completed": "completed", "rejected": "rejected",
               "cancelled": "cancelled", "expired": "failed"}
PRIORITY = {"routine": "routine", "urgent": "urgent", "emergency": "stat"}
REFERRAL = {"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"}


def _institution(ref: InstitutionBrief) -> dict[str, Any]:
    return {"identifier": {"system": "urn:mednet:institution", "value": ref.id}, "display": ref.name}


def status_reason(events: Sequence[EventRecord]) -> dict[str, Any] | None:
    """The last coded reason of a referral's history as a CodeableConcept (``urn:mednet:reason``, the Chinese
    label as display, the desk's words as text), or None."""
    coded = [e for e in events if e.reason_code]
    if not coded:
        return None
    last = coded[-1]
    reason = REASON_OF.get(str(last.reason_code))
    concept: dict[str, Any] = {"coding": [{"system": "urn:mednet:reason", "code": last.reason_code,
                                           "display": reason.label_zh if reason else last.reason_code}]}
    if last.why:
        concept["text"] = last.why
    return concept


def to_fhir(record: ReferralRecord, events: Sequence[EventRecord] = ()) -> dict[str, Any]:
    """A ``collection`` Bundle holding the referral's ServiceRequest and Task, validated, as JSON-ready data;
    with its ``events``, the last coded reason (a rejection's, a redirect's, a cancellation's or a closure's)
    is the Task's ``statusReason``."""
    specialty = resolve_specialty(record.specialty)
    subject = {"identifier": {"system": f"urn:mednet:patient:{record.origin.id}", "value": record.patient.ref}}
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": record.number,
        "identifier": [{"system": "urn:mednet:referral", "value": record.number}],
        "status": STATUS[record.state], "intent": "order", "priority": PRIORITY[record.priority],
        "category": [{"coding": [REFERRAL]},
                     {"coding": [{"system": "urn:mednet:direction", "code": record.direction}]}],
        "code": {"coding": [{"system": "urn:mednet:specialty", "code": specialty.code,
                             "display": specialty.label_en}], "text": specialty.label_zh},
        "subject": subject, "authoredOn": record.created_at.isoformat(),
        "requester": _institution(record.origin), "performer": [_institution(record.destination)],
        "reasonCode": [{"text": record.reason}],
    }
    if record.parent:
        request["basedOn"] = [{"reference": f"ServiceRequest/{record.parent}"}]
    if record.replaces:
        request["replaces"] = [{"reference": f"ServiceRequest/{record.replaces}"}]
    if record.destination_why:
        request["note"] = [{"text": record.destination_why}]
    task: dict[str, Any] = {
        "resourceType": "Task", "id": f"{record.number}-task",
        "identifier": [{"system": "urn:mednet:referral-task", "value": record.number}],
        "status": TASK_STATUS[record.state], "businessStatus": {"text": record.state}, "intent": "order",
        "priority": PRIORITY[record.priority], "focus": {"reference": f"ServiceRequest/{record.number}"},
        "for": subject, "authoredOn": record.created_at.isoformat(), "lastModified": record.updated_at.isoformat(),
        "requester": _institution(record.origin), "owner": _institution(record.destination),
    }
    if record.claim:
        task["note"] = [{"text": f"slot {record.claim.slot} ({record.claim.status})"}]
    if (why := status_reason(events)) is not None:
        task["statusReason"] = why
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": f"urn:mednet:ServiceRequest:{record.number}",
         "resource": ServiceRequest.model_validate(request)},
        {"fullUrl": f"urn:mednet:Task:{record.number}", "resource": Task.model_validate(task)},
    ]})
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)

"""A referral as FHIR R4 resources: a ServiceRequest (the referral) and a Task (its workflow state).

Validated with ``fhir.resources``' R4B models (FHIR 4.3.0): the maintained
releases of that library carry R5, R4B and STU3, and ServiceRequest and Task
are the same in R4B as in R4 (4.0.1), so a document valid here is valid R4.
Codes of mednet's own vocabularies use ``urn:mednet:*`` systems.

Each entry's ``fullUrl`` is a ``urn:uuid:`` made from the resource's type and
id (:func:`full_url`: the same referral always gives the same one), and every
literal reference in the Bundle is one of those ``fullUrl`` values, so
``Task.focus`` resolves inside the Bundle. The parent of a down-referral is
not in the Bundle: ``basedOn`` names it by its identifier (a logical
reference), not by a literal reference nothing would resolve.

>>> STATUS["booked"], TASK_STATUS["booked"], TASK_STATUS["redirected"]
('active', 'in-progress', 'requested')
>>> full_url("ServiceRequest", "R20261125-000042")
'urn:uuid:...'
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from mednet.ledger.records import InstitutionBrief, ReferralRecord
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


#: The namespace of :func:`full_url`'s name-based UUIDs.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mednet:referral")


def full_url(resource_type: str, resource_id: str) -> str:
    """The ``fullUrl`` of a resource in a referral's Bundle: a name-based UUID of ``Type/id`` (stable)."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{resource_type}/{resource_id}')}"


def _institution(ref: InstitutionBrief) -> dict[str, Any]:
    return {"identifier": {"system": "urn:mednet:institution", "value": ref.id}, "display": ref.name}


def to_fhir(record: ReferralRecord) -> dict[str, Any]:
    """A ``collection`` Bundle holding the referral's ServiceRequest and Task, validated, as JSON-ready data."""
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
    if record.parent:  # not in this Bundle: named by its identifier
        request["basedOn"] = [{"type": "ServiceRequest",
                               "identifier": {"system": "urn:mednet:referral", "value": record.parent}}]
    if record.destination_why:
        request["note"] = [{"text": record.destination_why}]
    task_id = f"{record.number}-task"
    task: dict[str, Any] = {
        "resourceType": "Task", "id": task_id,
        "identifier": [{"system": "urn:mednet:referral-task", "value": record.number}],
        "status": TASK_STATUS[record.state], "businessStatus": {"text": record.state}, "intent": "order",
        "priority": PRIORITY[record.priority], "focus": {"reference": full_url("ServiceRequest", record.number),
                                                         "type": "ServiceRequest"},
        "for": subject, "authoredOn": record.created_at.isoformat(), "lastModified": record.updated_at.isoformat(),
        "requester": _institution(record.origin), "owner": _institution(record.destination),
    }
    if record.claim:
        task["note"] = [{"text": f"slot {record.claim.slot} ({record.claim.status})"}]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": full_url("ServiceRequest", record.number), "resource": ServiceRequest.model_validate(request)},
        {"fullUrl": full_url("Task", task_id), "resource": Task.model_validate(task)},
    ]})
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)

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

import base64
import uuid
from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from mednet.ledger.reasons import REASON_OF
from mednet.ledger.records import AttachmentInfo, ClinicalSummary, EventRecord, InstitutionBrief, ReferralRecord
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


#: The 转诊记录's items (WS 445.16) in the order and words of the printed record.
SUMMARY_ZH = {"diagnosis_text": "初步诊断", "history": "病情摘要", "findings": "主要检查结果", "treatment": "治疗经过",
              "purpose": "转诊目的"}
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"


def summary_document(record: ReferralRecord, summary: ClinicalSummary) -> dict[str, Any]:
    """The clinical summary as a DocumentReference (转诊记录): its items as UTF-8 text, the diagnosis coded."""
    lines = []
    for name, label in SUMMARY_ZH.items():
        value = getattr(summary, name)
        if name == "diagnosis_text" and summary.diagnosis_code:
            value = f"{summary.diagnosis_code} {value or ''}".strip()
        if value:
            lines.append(f"{label}：{value}")
    text = "\n".join(lines).encode()
    return {"resourceType": "DocumentReference", "id": f"{record.number}-summary", "status": "current",
            "type": {"text": "转诊记录"}, "subject": _subject(record), "author": [_institution(record.origin)],
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "zh-CN",
                                        "data": base64.b64encode(text).decode(), "title": "转诊记录"}}]}


def _subject(record: ReferralRecord) -> dict[str, Any]:
    return {"identifier": {"system": f"urn:mednet:patient:{record.origin.id}", "value": record.patient.ref}}


def attachment_document(record: ReferralRecord, info: AttachmentInfo) -> dict[str, Any]:
    """An attachment as a DocumentReference: its type, size, name, when, where the two desks fetch it (the
    content itself stays behind the service's access rules) and its SHA-256 as an identifier."""
    return {"resourceType": "DocumentReference", "id": f"{record.number}-attachment-{info.id}", "status": "current",
            "identifier": [{"system": "urn:mednet:sha256", "value": info.sha256}],
            "type": {"text": "转诊附件"}, "subject": _subject(record), "date": info.at.isoformat(),
            "content": [{"attachment": {"contentType": info.media_type, "size": info.size, "title": info.name,
                                        "creation": info.at.isoformat(),
                                        "url": f"referrals/{record.number}/attachments/{info.id}"}}]}


def to_fhir(record: ReferralRecord, events: Sequence[EventRecord] = (),
            summary: ClinicalSummary | None = None, attachments: Sequence[AttachmentInfo] = ()) -> dict[str, Any]:
    """A ``collection`` Bundle holding the referral's ServiceRequest and Task, validated, as JSON-ready data;
    with its ``events``, the last coded reason (a rejection's, a redirect's, a cancellation's or a closure's)
    is the Task's ``statusReason``; with its clinical ``summary``, the diagnosis (ICD-10) leads the
    ServiceRequest's ``reasonCode`` and the 转诊记录 is a DocumentReference in ``supportingInfo``; so is each
    of its ``attachments`` (without its content)."""
    specialty = resolve_specialty(record.specialty)
    subject = _subject(record)
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
    entries: list[dict[str, Any]] = []
    if summary is not None and not summary.is_empty():
        if summary.diagnosis_code or summary.diagnosis_text:
            diagnosis: dict[str, Any] = {"text": summary.diagnosis_text or summary.diagnosis_code}
            if summary.diagnosis_code:
                diagnosis["coding"] = [{"system": ICD10_SYSTEM, "code": summary.diagnosis_code,
                                        **({"display": summary.diagnosis_text} if summary.diagnosis_text else {})}]
            request["reasonCode"].insert(0, diagnosis)
        document_id = f"{record.number}-summary"
        document = DocumentReference.model_validate(summary_document(record, summary))
        request["supportingInfo"] = [{"reference": full_url("DocumentReference", document_id),
                                      "type": "DocumentReference"}]
        entries.append({"fullUrl": full_url("DocumentReference", document_id), "resource": document})
    for info in attachments:
        document = DocumentReference.model_validate(attachment_document(record, info))
        url = full_url("DocumentReference", str(document.id))
        request.setdefault("supportingInfo", []).append({"reference": url, "type": "DocumentReference"})
        entries.append({"fullUrl": url, "resource": document})
    if record.parent:  # not in this Bundle: named by its identifier
        request["basedOn"] = [{"type": "ServiceRequest",
                               "identifier": {"system": "urn:mednet:referral", "value": record.parent}}]
    if record.replaces:  # the rejected referral this one replaces, likewise
        request["replaces"] = [{"type": "ServiceRequest",
                                "identifier": {"system": "urn:mednet:referral", "value": record.replaces}}]
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
    if (why := status_reason(events)) is not None:
        task["statusReason"] = why
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": full_url("ServiceRequest", record.number), "resource": ServiceRequest.model_validate(request)},
        {"fullUrl": full_url("Task", task_id), "resource": Task.model_validate(task)},
        *entries,
    ]})
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)

"""The referral form under a route answer: who may create one, the choices it offers, and reading it back.

A desk signed in for the answer's origin may record the referral (转诊申请)
for the proposed destination or for one of the alternatives; choosing an
alternative needs a reason (“why not the proposal”). The patient is the
desk's own pseudonymous id: the ledger refuses national ID numbers, and the
page says so in Chinese at the field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mednet.ledger import ApiKey, NewReferral
from mednet.routing import Referral
from service.deps import ServedRegion
from service.pages.wording import validation_zh

#: The route form's fields a referral form carries along (hidden), to route again when it is posted.
ROUTE_FIELDS = ("specialty", "direction", "when", "home", "max_km")
PATIENT_FIELDS = ("patient_ref", "sex", "birth_year")
#: The clinical summary's fields on the form (the 转诊记录 items).
SUMMARY_FIELDS = ("diagnosis_code", "diagnosis_text", "history", "findings", "treatment", "purpose")


@dataclass
class ReferView:
    """What the page shows under an answer: the form, or why there is none (``note``)."""

    allowed: bool
    note: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    token: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    choices: list[tuple[str, str, str]] = field(default_factory=list)


def refer_form(who: ApiKey | None, served: ServedRegion, form: Any, referral: Referral | None, *,
               values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> ReferView | None:
    """The referral form for ``referral`` as ``who`` may use it; None when there is no answer to refer."""
    if referral is None:
        return None
    if who is None:
        return ReferView(False, f"用{referral.origin.name}转诊服务台的密钥登录后，可以在这里直接创建转诊单。")
    if who.role != "desk":
        return ReferView(False, "规划人员的密钥只能查看，不能创建转诊单。")
    if who.region != served.region.id or who.institution != referral.origin.id or form.origin_kind != "institution":
        mine = served.institutions.get(who.institution or "")
        return ReferView(False, f"转诊单从本机构（{mine.name if mine else who.institution}）转出："
                                f"出发机构填本机构，才能从这个结果创建转诊单。")
    values = dict(values or {})
    values.setdefault("destination", referral.destination.id)
    values.setdefault("priority", "emergency" if referral.direction == "emergency" else "routine")
    choices = [(referral.destination.id, referral.destination.name, "建议去向")]
    choices += [(a.institution.id, a.institution.name, f"备选 {n}") for n, a in enumerate(referral.alternatives, 1)]
    if values["destination"] not in {c[0] for c in choices}:
        values["destination"] = referral.destination.id
    hidden = {name: getattr(form, name) for name in ROUTE_FIELDS if getattr(form, name)}
    return ReferView(True, values=values, errors=dict(errors or {}), token=values.get("token") or
                     secrets.token_urlsafe(16), hidden=hidden, choices=choices)


def new_referral(fields: dict[str, str], referral: Referral) -> tuple[NewReferral | None, dict[str, str]]:
    """The ledger's request from the posted form, or the errors per field in Chinese.

    The destination is left out when it is the router's proposal (the ledger then takes the proposal).
    """
    errors: dict[str, str] = {}
    birth = fields.get("birth_year", "")
    if birth and not birth.isdigit():
        errors["birth_year"] = "出生年份须为四位数字，如 1956。"
    if not fields.get("patient_ref"):
        errors["patient_ref"] = "请填写本服务台的患者编号（化名编号，不填姓名、身份证号）。"
    if not fields.get("reason"):
        errors["reason"] = "请填写转诊原因。"
    chosen = fields.get("destination") or referral.destination.id
    why = fields.get("destination_why") or None
    if chosen != referral.destination.id and not why:
        errors["destination_why"] = "选择了备选机构，请说明不选建议去向的理由。"
    try:
        request = NewReferral(
            specialty=referral.specialty.code, direction=referral.direction, reason=fields.get("reason") or "—",
            priority=fields.get("priority") or "routine",
            patient={"ref": fields.get("patient_ref") or "—", "sex": fields.get("sex") or "unknown",
                     "birth_year": int(birth) if birth.isdigit() else None},
            route=True, when=referral.when,
            destination=None if chosen == referral.destination.id else chosen,
            destination_why=why if chosen != referral.destination.id else None,
            summary={k: fields[k] for k in SUMMARY_FIELDS if fields.get(k)} or None,
        )
    except ValidationError as err:
        for problem in err.errors():
            name, words = validation_zh(tuple(problem["loc"]), str(problem["msg"]))
            errors.setdefault(name, words)
        return None, errors
    return (None, errors) if errors else (request, errors)

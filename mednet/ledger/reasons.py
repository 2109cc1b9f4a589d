"""Coded reasons: why a referral was rejected, redirected, cancelled or closed — one list, one check.

A desk picks a reason from this list (its Chinese label is what a clerk
reads); the code is what the ledger stores on the event
(``events.reason_code``), what indicators count and what the FHIR export
carries. ``other`` (其他) needs a few words of text; any code may have text
beside it. Each reason names the actions it applies to: ``reject`` and
``redirect`` (the receiving desk), ``cancel`` (the referring desk) and
``expire`` (closing a stale open referral: an admin, or the sweep).

The list is mednet's own: no national code set for referral outcomes is
published, so the codes are stable English words and the labels the words
referral desks use.

>>> reason_label("no_bed")
'无床位'
>>> [r.code for r in reasons_for("cancel")][:3]
['patient_declined', 'patient_lost', 'condition_improved']
>>> check_reason("reject", "patient_lost", None)
Traceback (most recent call last):
...
mednet.errors.InvalidRequest: `reason_code` must be a reason for reject: no_bed, no_slot, out_of_scope, \
equipment_unavailable, specialist_absent, not_indicated, incomplete_information, patient_declined, other, \
got 'patient_lost'
>>> check_reason("reject", None, "本院该专科满员")
'other'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mednet.errors import InvalidRequest

#: The actions that take a coded reason (``expire`` is the closing of a stale open referral).
ReasonAction = Literal["reject", "redirect", "cancel", "expire"]
REASON_ACTIONS: tuple[ReasonAction, ...] = ("reject", "redirect", "cancel", "expire")
#: The code of the reason that needs text of its own.
OTHER = "other"


@dataclass(frozen=True)
class Reason:
    """One coded reason: its code (stored), its Chinese label (shown), the actions it applies to."""

    code: str
    label_zh: str
    label_en: str
    actions: frozenset[ReasonAction]

    @property
    def needs_text(self) -> bool:
        return self.code == OTHER


def _r(code: str, zh: str, en: str, *actions: ReasonAction) -> Reason:
    return Reason(code, zh, en, frozenset(actions))


_RECEIVING: tuple[ReasonAction, ...] = ("reject", "redirect")

#: Every reason, in the order a desk sees them.
REASONS: tuple[Reason, ...] = (
    _r("no_bed", "无床位", "no bed available", *_RECEIVING),
    _r("no_slot", "无号源", "no appointment slot available", *_RECEIVING),
    _r("out_of_scope", "超出诊疗范围", "beyond the institution's scope of care", *_RECEIVING),
    _r("equipment_unavailable", "设备不可用", "equipment needed is unavailable", *_RECEIVING),
    _r("specialist_absent", "专科医生不在岗", "no specialist on duty", *_RECEIVING),
    _r("nearer_capable", "就近机构可诊治", "a nearer capable institution can treat", "redirect"),
    _r("patient_request", "患者要求改转", "the patient asked to go elsewhere", "redirect"),
    _r("not_indicated", "无转诊指征", "no indication for referral", "reject"),
    _r("incomplete_information", "转诊资料不全", "referral information incomplete", "reject"),
    _r("patient_declined", "患者拒绝", "the patient declined", "reject", "cancel", "expire"),
    _r("patient_lost", "患者失访", "the patient was lost to follow-up", "cancel", "expire"),
    _r("condition_improved", "病情好转无需转诊", "the condition improved: no referral needed", "cancel"),
    _r("treated_elsewhere", "已在他院就诊", "treated at another institution", "cancel", "expire"),
    _r("patient_died", "患者死亡", "the patient died", "cancel", "expire"),
    _r("entered_in_error", "误录", "entered in error", "cancel"),
    _r("no_response", "超时未处理", "no change within the time allowed", "expire"),
    _r(OTHER, "其他", "other", *REASON_ACTIONS),
)
REASON_OF: dict[str, Reason] = {r.code: r for r in REASONS}


def reasons_for(action: str) -> tuple[Reason, ...]:
    """The reasons a desk may give for ``action``, in list order (none for an action without reasons).

    >>> [r.label_zh for r in reasons_for("redirect")][-3:]
    ['就近机构可诊治', '患者要求改转', '其他']
    """
    return tuple(r for r in REASONS if action in r.actions)


def reason_label(code: str | None) -> str:
    """A code's Chinese label (the code itself when unknown; an empty string for none)."""
    if not code:
        return ""
    found = REASON_OF.get(code)
    return found.label_zh if found else code


def check_reason(action: str, code: str | None, text: str | None) -> str | None:
    """The code to store for ``action`` with ``code`` and free ``text``, or :class:`InvalidRequest`.

    A code must be one of the action's reasons; ``other`` needs text. Text
    without a code is stored as ``other`` for the actions that take reasons
    (a client of the first API, which had free text only, keeps working);
    other actions store no code.
    """
    allowed = reasons_for(action)
    if code is None:
        return OTHER if text and allowed else None
    if not allowed:
        raise InvalidRequest("reason_code", code, f"is not taken by {action}: only "
                             f"{', '.join(REASON_ACTIONS)} take a coded reason", rule_zh="只用于拒绝、改转、撤销和关闭")
    if code not in {r.code for r in allowed}:
        raise InvalidRequest("reason_code", code, f"must be a reason for {action}: "
                             f"{', '.join(r.code for r in allowed)}",
                             rule_zh="须为这一步的理由之一：" + "、".join(r.label_zh for r in allowed))
    if code == OTHER and not (text and text.strip()):
        raise InvalidRequest("reason", text, "is required with reason_code `other`: say in a few words why",
                             rule_zh="选“其他”时须写明理由", code="other_needs_words")
    return code


__all__ = ["OTHER", "REASONS", "REASON_ACTIONS", "REASON_OF", "Reason", "ReasonAction", "check_reason",
           "reason_label", "reasons_for"]

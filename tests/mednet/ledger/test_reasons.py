"""Coded reasons: the list, the one check, and the code stored on the event (both engines)."""

from __future__ import annotations

import pytest

from mednet.errors import InvalidRequest
from mednet.ledger.reasons import OTHER, REASON_ACTIONS, REASONS, check_reason, reason_label, reasons_for
from mednet.ledger.records import ActionIn


def test_every_reason_has_a_unique_code_a_chinese_label_and_actions_that_take_reasons():
    codes = [r.code for r in REASONS]
    assert len(codes) == len(set(codes))
    for r in REASONS:
        assert r.actions and r.actions <= set(REASON_ACTIONS), r
        assert r.label_zh and not r.label_zh.isascii(), r
    for action in REASON_ACTIONS:  # each action offers 其他 last
        assert reasons_for(action)[-1].code == OTHER
    assert {"无床位", "无号源", "超出诊疗范围", "患者拒绝", "患者失访", "其他"} <= {r.label_zh for r in REASONS}


@pytest.mark.parametrize(("action", "code", "text", "rule"), [
    ("reject", "nonsense", None, "must be a reason for reject"),
    ("cancel", "no_bed", None, "must be a reason for cancel"),
    ("accept", "no_bed", None, "is not taken by accept"),
    ("reject", "other", None, "is required with reason_code `other`"),
    ("reject", "other", "   ", "is required with reason_code `other`"),
])
def test_a_code_that_does_not_fit_is_refused_naming_the_allowed_ones(action, code, text, rule):
    with pytest.raises(InvalidRequest, match=rule):
        check_reason(action, code, text)


def test_words_alone_are_stored_as_other_and_nothing_for_actions_without_reasons():
    assert check_reason("reject", None, "本院该专科满员") == "other"
    assert check_reason("accept", None, "好的") is None
    assert check_reason("cancel", None, None) is None
    assert check_reason("redirect", "no_bed", None) == "no_bed"
    assert reason_label("patient_lost") == "患者失访" and reason_label(None) == ""


def test_the_ledger_keeps_the_code_on_the_event(desks):
    number = desks.new().number
    desks.ledger.act(desks.xinhua, number, "reject", ActionIn(reason_code="no_bed"))
    events = desks.ledger.history(desks.centre, number)
    assert (events[-1].action, events[-1].reason_code, events[-1].why) == ("reject", "no_bed", None)
    number = desks.new().number
    desks.ledger.act(desks.centre, number, "cancel", ActionIn(reason_code="other", reason="家属决定去外省"))
    assert desks.ledger.history(desks.centre, number)[-1].reason_code == "other"


def test_a_rejection_needs_a_code_or_words_and_a_wrong_code_changes_nothing(desks):
    number = desks.new().number
    with pytest.raises(InvalidRequest, match="is required to reject"):
        desks.ledger.act(desks.xinhua, number, "reject", ActionIn())
    with pytest.raises(InvalidRequest, match="must be a reason for reject"):
        desks.ledger.act(desks.xinhua, number, "reject", ActionIn(reason_code="patient_died"))
    record = desks.ledger.get(desks.centre, number)
    assert (record.state, record.version) == ("requested", 1)


def test_the_fhir_export_carries_the_last_coded_reason(desks):
    from mednet.ledger.fhir import to_fhir

    number = desks.new().number
    desks.ledger.act(desks.xinhua, number, "reject", ActionIn(reason_code="other", reason="设备检修"))
    bundle = to_fhir(desks.ledger.get(desks.centre, number), desks.ledger.history(desks.centre, number))
    task = bundle["entry"][1]["resource"]
    assert task["statusReason"] == {"coding": [{"system": "urn:mednet:reason", "code": "other", "display": "其他"}],
                                    "text": "设备检修"}
    assert "statusReason" not in to_fhir(desks.ledger.get(desks.centre, desks.new().number))["entry"][1]["resource"]


def test_a_rejected_referral_is_referred_again_to_the_next_capable_institution(desks):
    from mednet.errors import Forbidden, IllegalTransition
    from mednet.ledger import NewReferral

    routing = {"destination": {"id": "sh-xinhua", "name": "新华医院"},
               "alternatives": [{"institution": {"id": "sh-huashan", "name": "华山医院"}},
                                {"institution": {"id": "sh-sixth", "name": "第六人民医院"}}]}
    number = desks.ledger.create(desks.centre, NewReferral(specialty="儿科", reason="高热", patient={"ref": "RR-1"}),
                                 routing=routing).record.number
    with pytest.raises(IllegalTransition):
        desks.ledger.rerefer(desks.centre, number, "sh-huashan")
    desks.ledger.act(desks.xinhua, number, "reject", ActionIn(reason_code="no_bed"))
    assert [i.id for i in desks.ledger.next_destinations(desks.centre, number)] == ["sh-huashan", "sh-sixth"]
    with pytest.raises(Forbidden):
        desks.ledger.rerefer(desks.xinhua, number, "sh-huashan")
    with pytest.raises(InvalidRequest, match="not yet tried"):
        desks.ledger.rerefer(desks.centre, number, "sh-xinhua")
    again = desks.ledger.rerefer(desks.centre, number, "sh-huashan", idempotency_key="rr-1").record
    assert (again.destination.id, again.replaces, again.patient.ref, again.state) == ("sh-huashan", number, "RR-1",
                                                                                      "requested")
    assert desks.ledger.rerefer(desks.centre, number, "sh-huashan", idempotency_key="rr-1").record == again
    desks.ledger.act(desks.huashan, again.number, "reject", ActionIn(reason_code="out_of_scope"))
    assert [i.id for i in desks.ledger.next_destinations(desks.centre, again.number)] == ["sh-sixth"]

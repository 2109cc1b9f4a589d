"""The clinical summary (转诊记录): stored with the referral, read by its two desks only, every read recorded, and in
the FHIR export (both engines)."""

from __future__ import annotations

import pydantic
import pytest

from mednet.errors import Forbidden
from mednet.ledger import NewReferral
from mednet.ledger.fhir import to_fhir
from mednet.ledger.records import ActionIn, ClinicalSummary

SUMMARY = {"diagnosis_code": "j18.900x001", "diagnosis_text": "社区获得性肺炎", "history": "发热咳嗽五天",
           "findings": "胸片右下肺斑片影", "treatment": "口服阿莫西林三天无好转", "purpose": "住院抗感染治疗"}


def test_the_summary_is_for_the_two_desks_and_every_read_is_recorded(desks):
    body = NewReferral(specialty="儿科", reason="肺炎", patient={"ref": "SUM-1"}, destination="sh-xinhua",
                       route=False, summary=SUMMARY)
    number = desks.ledger.create(desks.centre, body).record.number
    read = desks.ledger.summary(desks.xinhua, number)
    assert read == ClinicalSummary(**SUMMARY) and read.diagnosis_code == "J18.900x001"
    assert desks.ledger.summary(desks.centre, number, what="slip").purpose == "住院抗感染治疗"
    for stranger in (desks.huashan, desks.planner, desks.admin):
        with pytest.raises(Forbidden):
            desks.ledger.summary(stranger, number)
    desks.ledger.act(desks.xinhua, number, "redirect", ActionIn(reason_code="no_bed", destination="sh-huashan"))
    with pytest.raises(Forbidden):  # passed on: it keeps sight of the referral, not of the clinical summary
        desks.ledger.summary(desks.xinhua, number)
    assert desks.ledger.summary(desks.huashan, number).history == "发热咳嗽五天"
    record = [r for r in desks.ledger.reads(desks.admin, region="minhang") if r.referral == number]
    assert [(r.key_id, r.institution, r.what) for r in record] == [
        (desks.huashan.id, "sh-huashan", "summary"), (desks.centre.id, "mh-hongqiao", "slip"),
        (desks.xinhua.id, "sh-xinhua", "summary")]
    with pytest.raises(Forbidden):
        desks.ledger.reads(desks.xinhua)


@pytest.mark.parametrize("code", ["阑尾炎", "K3", "KK35", "K35.12345", "35.8"])
def test_an_icd10_code_of_the_wrong_shape_is_refused(code):
    with pytest.raises(pydantic.ValidationError, match="must be an ICD-10 code"):
        ClinicalSummary(diagnosis_code=code)


def test_a_national_id_number_in_the_summary_is_refused():
    with pytest.raises(pydantic.ValidationError, match="national ID number"):
        ClinicalSummary(history="患者 11010519491231002X 发热")


def test_the_fhir_export_carries_the_coded_diagnosis_and_the_record(desks):
    body = NewReferral(specialty="儿科", reason="肺炎", patient={"ref": "SUM-2"}, destination="sh-xinhua",
                       route=False, summary=SUMMARY)
    number = desks.ledger.create(desks.centre, body).record.number
    bundle = to_fhir(desks.ledger.get(desks.centre, number), (), desks.ledger.summary(desks.centre, number))
    request, _, document = (e["resource"] for e in bundle["entry"])
    assert request["reasonCode"][0]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10",
                                                      "code": "J18.900x001", "display": "社区获得性肺炎"}
    assert request["supportingInfo"][0]["reference"] == bundle["entry"][2]["fullUrl"]
    import base64

    text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
    assert document["resourceType"] == "DocumentReference" and "主要检查结果：胸片右下肺斑片影" in text
    assert "初步诊断：J18.900x001 社区获得性肺炎" in text

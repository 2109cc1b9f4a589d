"""Attachments (转诊附件): PDF, PNG and JPEG checked by content, size-limited, stored with their SHA-256 once per
referral, read by the referral's two desks only, every read recorded, and listed in the FHIR export (both engines)."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

from mednet.errors import AttachmentRefused, Forbidden, InvalidRequest, UnknownAttachment
from mednet.ledger import NewReferral
from mednet.ledger.attachments import MAX_PER_REFERRAL, check_file, sniff
from mednet.ledger.fhir import to_fhir
from mednet.ledger.records import ActionIn


def png(width: int = 2, height: int = 1) -> bytes:
    """A real, tiny PNG (grey pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf(body: bytes = b"BT /F1 12 Tf (xuechanggui) Tj ET") -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] "
            b"/Count 0 >> endobj\n3 0 obj << /Length " + str(len(body)).encode() + b" >> stream\n" + body
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" \
       b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xd2\xcf \xff\xd9"


@pytest.mark.parametrize(("content", "expected"), [(pdf(), "application/pdf"), (png(), "image/png"),
                                                   (JPEG, "image/jpeg")])
def test_each_type_is_known_by_its_content(content, expected):
    assert sniff(content) == expected
    checked = check_file("无扩展名", None, content)
    assert checked.media_type == expected and checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.name.startswith("无扩展名.")


@pytest.mark.parametrize(("name", "declared", "content", "words"), [
    ("报告.pdf", "application/pdf", b"<html><script>alert(1)</script></html>", "内容不是 PDF、PNG 或 JPEG"),
    ("报告.pdf", "application/pdf", b"", "是空文件"),
    ("照片.png", "image/png", JPEG, "声明为 PNG 图片，内容却是 JPEG 图片"),
    ("照片.jpg", None, png(), "声明为 JPEG 图片，内容却是 PNG 图片"),
    ("坏图.png", "image/png", png()[:-8] + b"\x00" * 8, "内容不是"),  # a broken IEND CRC
    ("宏.pdf", "application/pdf", pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "/JavaScript"),
    ("隐藏.pdf", "application/pdf", pdf(b"/Launch#20"), "/Launch"),
    ("大.pdf", "application/pdf", pdf(b"x" * 5000), "不能超过"),
    ("11010519491231002X 胸片.png", "image/png", png(), "文件名含有居民身份证号"),
])
def test_a_file_that_is_not_what_it_says_is_refused_in_chinese(name, declared, content, words):
    with pytest.raises(InvalidRequest) as caught:
        check_file(name, declared, content, max_bytes=4096)
    refused = caught.value
    assert refused.field == "file" and words in refused.zh
    assert "11010519491231002X" not in str(refused) + refused.zh  # the refusal does not repeat it either


def test_the_two_desks_attach_and_read_others_cannot_and_every_read_is_recorded(desks):
    number = desks.ledger.create(desks.centre, NewReferral(
        specialty="儿科", reason="肺炎", patient={"ref": "ATT-1"}, destination="sh-xinhua", route=False)).record.number
    first = desks.ledger.attach(desks.centre, number, "C:\\扫描\\胸片.png", png(), content_type="image/png")
    assert (first.name, first.media_type, first.institution) == ("胸片.png", "image/png", "mh-hongqiao")
    desks.ledger.attach(desks.xinhua, number, "血常规.pdf", pdf(), content_type="application/pdf")
    with pytest.raises(AttachmentRefused, match="already attached"):
        desks.ledger.attach(desks.xinhua, number, "again.png", png())
    info, content = desks.ledger.attachment(desks.xinhua, number, first.id)
    assert content == png() and info.sha256 == hashlib.sha256(content).hexdigest()
    assert [f.name for f in desks.ledger.attachments(desks.centre, number)] == ["胸片.png", "血常规.pdf"]
    for stranger in (desks.huashan, desks.planner, desks.admin):
        with pytest.raises(Forbidden):
            desks.ledger.attachment(stranger, number, first.id)
        with pytest.raises(Forbidden):
            desks.ledger.attach(stranger, number, "x.png", png(3))
    with pytest.raises(UnknownAttachment, match="unknown attachment"):
        desks.ledger.attachment(desks.centre, number, first.id + 1000)
    desks.ledger.act(desks.xinhua, number, "redirect", ActionIn(reason_code="no_bed", destination="sh-huashan"))
    with pytest.raises(Forbidden):  # passed on: it keeps sight of the referral, not of its clinical record
        desks.ledger.attachment(desks.xinhua, number, first.id)
    assert desks.ledger.attachment(desks.huashan, number, first.id)[1] == png()
    record = [(r.institution, r.what) for r in desks.ledger.reads(desks.admin) if r.referral == number]
    assert record == [("sh-huashan", f"attachment {first.id}"), ("mh-hongqiao", "attachments"),
                      ("sh-xinhua", f"attachment {first.id}")]


def test_a_referral_holds_a_bounded_number_of_files(desks):
    number = desks.ledger.create(desks.centre, NewReferral(
        specialty="儿科", reason="肺炎", patient={"ref": "ATT-2"}, destination="sh-xinhua", route=False)).record.number
    for n in range(MAX_PER_REFERRAL):
        desks.ledger.attach(desks.centre, number, f"{n}.png", png(n + 1))
    with pytest.raises(AttachmentRefused, match="one file too many"):
        desks.ledger.attach(desks.centre, number, "last.png", png(99))


def test_the_fhir_export_lists_the_attachments_without_their_content(desks):
    number = desks.ledger.create(desks.centre, NewReferral(
        specialty="儿科", reason="肺炎", patient={"ref": "ATT-3"}, destination="sh-xinhua", route=False)).record.number
    info = desks.ledger.attach(desks.centre, number, "血常规.pdf", pdf())
    bundle = to_fhir(desks.ledger.get(desks.centre, number), (), None, desks.ledger.attachments(desks.centre, number))
    request, _, document = (e["resource"] for e in bundle["entry"])
    assert request["supportingInfo"] == [{"reference": bundle["entry"][2]["fullUrl"], "type": "DocumentReference"}]
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf" and attachment["size"] == len(pdf())
    assert attachment["title"] == "血常规.pdf" and "data" not in attachment
    assert document["identifier"][0] == {"system": "urn:mednet:sha256", "value": info.sha256}

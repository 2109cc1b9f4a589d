"""Attachments of a referral (转诊附件): PDF, PNG and JPEG files, checked by their content, not their name.

A file is taken only when its bytes are what its type says: a PDF starts with ``%PDF-`` and ends with
``%%EOF`` and names no active content (JavaScript, launch actions, embedded files, rich media, XFA forms);
a PNG has its signature, an ``IHDR`` first and every chunk's CRC right up to ``IEND``; a JPEG opens with
SOI, has a frame header and ends with EOI. The declared type (the upload's ``Content-Type`` or the name's
extension) must agree with what the bytes are, and the name may hold no national ID number. Files are at
most :data:`MAX_BYTES` (the service sets its own limit), stored with their SHA-256, the same file once per
referral, at most :data:`MAX_PER_REFERRAL` files a referral. They are served only to the referral's two
desks, always as a download, never shown inline (``Content-Disposition: attachment``, ``nosniff``, a
sandboxing policy).

>>> sniff(b"%PDF-1.7\\n1 0 obj<<>>endobj\\n%%EOF\\n")
'application/pdf'
>>> check_file("检查报告.pdf", "application/pdf", b"GIF89a...")
Traceback (most recent call last):
...
mednet.errors.InvalidRequest: `file` must be a PDF, PNG or JPEG file (judged by its content, ...), got '检查报告.pdf'
>>> safe_name("C:\\\\扫描\\\\../血常规.JPG", "image/jpeg")
'血常规.JPG'
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass

from mednet.errors import InvalidRequest
from mednet.inputs import contains_id_number

#: Largest file taken by default (bytes).
MAX_BYTES = 10 * 1024 * 1024
#: Most files one referral holds.
MAX_PER_REFERRAL = 20
#: The types taken, with their usual extensions and Chinese names.
MEDIA_TYPES = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg")}
KIND_ZH = {"application/pdf": "PDF", "image/png": "PNG 图片", "image/jpeg": "JPEG 图片"}
_PNG = b"\x89PNG\r\n\x1a\n"
#: Names in a PDF that make it act when opened: refused (a ``#xx`` escape in a name is decoded first).
_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData|GoToE)\b")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed: its type by content, its cleaned name, size and SHA-256."""

    name: str
    media_type: str
    size: int
    sha256: str


def sniff(content: bytes) -> str | None:
    """The media type the bytes are (by their structure), or None.

    >>> sniff(b"\\xff\\xd8\\xff\\xe0" + b"\\xff\\xc0" + bytes(20) + b"\\xff\\xd9")
    'image/jpeg'
    >>> sniff(b"<html><script>alert(1)</script>") is None
    True
    """
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-1024:]:
        return "application/pdf"
    if content.startswith(_PNG) and _png_ok(content):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff") and content.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9") \
            and re.search(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]", content[2:]):
        return "image/jpeg"
    return None


def _png_ok(content: bytes) -> bool:
    """Every chunk is whole with a right CRC, ``IHDR`` first and ``IEND`` last."""
    at, first = len(_PNG), True
    while at + 12 <= len(content):
        length, kind = struct.unpack(">I4s", content[at:at + 8])
        end = at + 12 + length
        if end > len(content) or (first and kind != b"IHDR"):
            return False
        crc = struct.unpack(">I", content[end - 4:end])[0]
        if zlib.crc32(content[at + 4:end - 4]) != crc:
            return False
        if kind == b"IEND":
            return end == len(content)
        at, first = end, False
    return False


def active_content(content: bytes) -> str | None:
    """The first name of active content a PDF holds (``/JavaScript``, ``/Launch``, …), or None.

    >>> active_content(b"%PDF-1.4 << /OpenAction << /S /Java#53cript >> >> %%EOF")
    'JavaScript'
    """
    found = _ACTIVE.search(_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), content))
    return found.group(1).decode() if found else None


def declared_type(name: str, content_type: str | None) -> str | None:
    """The type the upload claims: its ``Content-Type`` when one of the types taken, else by the name's extension.

    >>> declared_type("报告.PDF", "application/octet-stream"), declared_type("x.png", "image/png; q=1")
    ('application/pdf', 'image/png')
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in MEDIA_TYPES:
        return media
    lower = name.lower()
    return next((m for m, exts in MEDIA_TYPES.items() if lower.endswith(exts)), None)


def safe_name(name: str, media_type: str) -> str:
    """The file's own name without folders or control characters, at most 120 characters, ending in an
    extension of its type (one is added when it has none that fits)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".") or "附件"
    extensions = MEDIA_TYPES[media_type]
    if not base.lower().endswith(extensions):
        base += extensions[0]
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[:119 - len(ext)]}{dot}{ext}"
    return base


def check_file(name: str, content_type: str | None, content: bytes, *,
               max_bytes: int = MAX_BYTES) -> CheckedFile:
    """The checked file; an :class:`InvalidRequest` saying what is wrong with it (in English and Chinese)."""
    if not content:
        raise InvalidRequest("file", name, "must not be empty", rule_zh="是空文件")
    if len(content) > max_bytes:
        raise InvalidRequest("file", f"{name} ({len(content)} bytes)", f"must be at most {max_bytes} bytes",
                             rule_zh=f"不能超过 {max_bytes / 1048576:.1f} MB")
    found = sniff(content)
    if found is None:
        raise InvalidRequest("file", name, "must be a PDF, PNG or JPEG file (judged by its content, not its name)",
                             rule_zh="内容不是 PDF、PNG 或 JPEG 文件（按文件内容判断，不看文件名）")
    if contains_id_number(name):
        raise InvalidRequest("file", "(a name holding a national ID number)", "must not be named with a national ID "
                             "number (居民身份证号): the ledger does not store them",
                             rule_zh="的文件名含有居民身份证号（本系统不保存身份证号），请改名后再上传")
    claimed = declared_type(name, content_type)
    if claimed is not None and claimed != found:
        raise InvalidRequest("file", name, f"is declared {claimed} but its content is {found}",
                             rule_zh=f"声明为 {KIND_ZH[claimed]}，内容却是 {KIND_ZH[found]}")
    if found == "application/pdf" and (active := active_content(content)):
        raise InvalidRequest("file", name, f"must hold no active content (it names /{active})",
                             rule_zh=f"含有可执行内容（/{active}），不能作为附件")
    return CheckedFile(safe_name(name, found), found, len(content), hashlib.sha256(content).hexdigest())


def content_disposition(name: str, media_type: str, attachment_id: int) -> str:
    """``attachment`` with an ASCII fallback name and the real one in UTF-8 (RFC 6266 / 5987).

    >>> print(content_disposition("血常规.jpg", "image/jpeg", 7))
    attachment; filename="attachment-7.jpg"; filename*=UTF-8''%E8%A1%80%E5%B8%B8%E8%A7%84.jpg
    """
    from urllib.parse import quote

    return (f'attachment; filename="attachment-{attachment_id}{MEDIA_TYPES[media_type][0]}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")


def download_headers(name: str, media_type: str, attachment_id: int) -> dict[str, str]:
    """The headers an attachment is served with: always a download, never kept by a shared cache, and a policy
    that lets nothing in it run should a browser show it anyway (the service adds ``X-Content-Type-Options:
    nosniff`` to every answer, so its type is never guessed either).

    >>> download_headers("a.pdf", "application/pdf", 1)["Content-Security-Policy"]
    "sandbox; default-src 'none'"
    """
    return {"Content-Disposition": content_disposition(name, media_type, attachment_id),
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store"}


__all__ = ["MAX_BYTES", "MAX_PER_REFERRAL", "MEDIA_TYPES", "CheckedFile", "active_content", "check_file",
           "content_disposition", "declared_type", "download_headers", "safe_name", "sniff"]

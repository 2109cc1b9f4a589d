"""The security headers every answer carries, as prebuilt byte pairs: the app's (through the guard), the
protocol's own refusals (431, 408, a request the parser refuses) and the answers given while the server starts.

Only the standard library: :mod:`service.starting` uses it before the service is imported.

    >>> dict(SECURITY_HEADERS)[b"x-content-type-options"]
    b'nosniff'
    >>> b"content-security-policy: default-src 'none'" in head_lines(b"p1")
    True
"""

from __future__ import annotations

import itertools
import os

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
#: The policy of every answer that is not a page (pages set their own).
NO_CONTENT = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
REQUEST_ID = b"x-request-id"
#: Every header a refusal made outside the app carries, besides its request id.
SECURITY_HEADERS = (NOSNIFF, NO_STORE, NO_CONTENT)

_ids = itertools.count(1)


def new_request_id(kind: str = "r") -> bytes:
    """A request id for an answer given outside the app: the process, a kind letter and a counter.

    >>> new_request_id("s").split(b"-")[1].startswith(b"s")
    True
    """
    return f"{os.getpid():x}-{kind}{next(_ids)}".encode()


def head_lines(request_id: bytes) -> bytes:
    """The security headers and ``request_id`` as HTTP/1.1 header lines, each ending in CRLF."""
    pairs = (*SECURITY_HEADERS, (REQUEST_ID, request_id))
    return b"".join(name + b": " + value + b"\r\n" for name, value in pairs)

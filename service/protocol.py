"""The HTTP connection as ``mednet serve`` runs it: uvicorn's httptools protocol with limits on headers.

uvicorn limits neither the size of a request's headers nor the time a client
takes to send them or its body. :class:`GuardedHttp` adds, from the
service settings:

- ``max_header_bytes``: a request line and headers together larger than
  this are answered 431 and the connection closed;
- ``header_timeout_s``: from a connection's start, or a request's first
  byte, to the end of its headers; then 408 and close (slow headers);
- ``body_timeout_s``: from the end of the headers to the end of the body;
  then 408 and close (stalled bodies);
- ``max_body_bytes``: a body of any method (a ``GET`` too, and one sent
  in chunks) that grows past it is answered 413 and the connection closed,
  or, when the answer is already sent, the connection closed: the rest is
  not read.

Idle keep-alive connections are closed by uvicorn's own
``timeout_keep_alive`` (``idle_timeout_s``). Requests the parser rejects
are answered with a problem body, not uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.config import get_settings
from service.headers import head_lines, new_request_id

_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            431: "Request Header Fields Too Large"}
_KINDS = {400: ("malformed-request", "Malformed request"), 408: ("request-timeout", "Request timeout"),
          413: ("body-too-large", "Request body too large"), 431: ("headers-too-large", "Headers too large")}


def problem_bytes(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 problem answer that closes the connection.

    >>> problem_bytes(408, "too slow").split(b"\\r\\n")[0]
    b'HTTP/1.1 408 Request Timeout'
    """
    slug, title = _KINDS[status]
    body = orjson.dumps({"type": f"urn:mednet:problem:{slug}", "title": title, "status": status, "detail": detail})
    head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n").encode()
    return head + head_lines(new_request_id("p")) + b"\r\n" + body


async def _headers_too_large(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI answer to a request whose headers were too large (it never reaches the service)."""
    limit = get_settings().max_header_bytes
    head, body = problem_bytes(431, f"the request line and headers are larger than {limit} bytes").split(b"\r\n\r\n")
    await send({"type": "http.response.start", "status": 431, "headers": [
        tuple(line.split(b": ", 1)) for line in head.split(b"\r\n")[1:]
    ]})
    await send({"type": "http.response.body", "body": body})


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, header time and body time limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_header_bytes, self.max_body_bytes = settings.max_header_bytes, settings.max_body_bytes
        self.body_bytes = 0  # of the current request's body
        self.header_timeout_s, self.body_timeout_s = settings.header_timeout_s, settings.body_timeout_s
        self.unparsed_bytes = 0  # received while the headers are not complete
        self.header_bytes = 0  # of the request line and the headers parsed so far
        self.in_headers = True
        self.completed = 0  # requests received whole on this connection
        self.deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(seconds, self._expire, what)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expire(self, what: str) -> None:
        self.deadline = None
        cycle = self.cycle
        answering = what == "body" and cycle is not None and cycle.response_started
        if self.transport.is_closing() or answering:
            return
        limit = self.header_timeout_s if what == "headers" else self.body_timeout_s
        self._refuse(408, f"the request's {what} took longer than {limit:g} s to arrive")

    def _refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` with a problem body and close; the app (if it is waiting for a body) sees a
        disconnect."""
        self.logger.info("closing a connection from %s: %s", self.client and self.client[0], detail)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(problem_bytes(status, detail))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.in_headers and self.deadline is None:
            self._arm(self.header_timeout_s, "headers")
        completed = self.completed
        super().data_received(data)
        if self.in_headers and self.completed == completed and not self.transport.is_closing():
            self.unparsed_bytes += len(data)
            if self.unparsed_bytes > self.max_header_bytes:  # and still no end of the headers
                self._refuse(431, f"the request line and headers are larger than {self.max_header_bytes} bytes")

    def on_url(self, url: bytes) -> None:
        self.header_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_headers = False
        self._arm(self.body_timeout_s, "body")
        if self.header_bytes <= self.max_header_bytes:
            super().on_headers_complete()
            return
        app, self.app = self.app, _headers_too_large  # answered by uvicorn's usual cycle, without the service
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        if self.body_bytes > self.max_body_bytes and not self.transport.is_closing():
            if self.cycle is None or not self.cycle.response_started:
                self._refuse(413, f"the request body is larger than {self.max_body_bytes} bytes")
            else:  # answered already (the app did not read it): the rest is not read
                self.transport.close()
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self.in_headers, self.unparsed_bytes, self.header_bytes, self.body_bytes = True, 0, 0, 0
        self.completed += 1
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        self.transport.write(problem_bytes(400, f"{msg} Send HTTP/1.1 with a JSON body."))
        self.transport.close()

"""What the port answers while ``mednet serve`` loads, before its workers exist: ``/health`` 200, anything
else 503 ``not-ready`` with ``Retry-After`` (as the app itself answers while its regions load), each with the
security headers and a request id of :mod:`service.headers`.

A thread of the parent process accepts on the listening socket and answers
each connection once (``Connection: close``), until the workers take the
socket over. Only the standard library: it answers while the parent is
still importing the service.

    >>> answer("GET /ready HTTP/1.1").split(b"\\r\\n")[0]
    b'HTTP/1.1 503 Service Unavailable'
    >>> answer("GET /health HTTP/1.1").split(b"\\r\\n")[0]
    b'HTTP/1.1 200 OK'
"""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time

from service.headers import head_lines, new_request_id

#: Seconds a client may take to send its request line while the service starts (then it gets the 503 anyway).
READ_S = 1.0
HEAD_BYTES = 16 * 1024


def answer(request_line: str) -> bytes:
    """The whole answer to a request whose first line is ``request_line``."""
    parts = request_line.split()
    body: dict[str, str | int]
    if parts[:2] in (["GET", "/health"], ["HEAD", "/health"]):
        status, kind, body = "200 OK", "application/json", {"status": "ok"}
        extra = ""
    else:
        status, kind, extra = "503 Service Unavailable", "application/problem+json", "retry-after: 1\r\n"
        body = {"type": "urn:mednet:problem:not-ready", "title": "Not ready", "status": 503,
                "detail": "regions are loading; retry shortly"}
    data = json.dumps(body).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(data)}\r\n{extra}connection: close\r\n"
    return head.encode() + head_lines(new_request_id("s")) + b"\r\n" + data


class StartingAnswers:
    """Answers the listening socket from a thread until :meth:`stop` (then the socket is left as it was)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mednet-starting", daemon=True)

    def start(self) -> StartingAnswers:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (each connection already accepted is answered first)."""
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            while not self.stopped.is_set():
                if not selector.select(timeout=0.05):
                    continue
                try:
                    conn, _ = self.sock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # the socket was closed: the start has ended
                    return
                with conn:
                    self._answer(conn)

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        deadline = time.monotonic() + READ_S
        received = b""
        try:
            conn.settimeout(READ_S)
            while b"\r\n" not in received and len(received) < HEAD_BYTES and time.monotonic() < deadline:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                received += chunk
            conn.sendall(answer(received.split(b"\r\n", 1)[0].decode("latin-1")))
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(0.1)
            # what the client still sends (a body): read it, so that closing does not reset the connection
            while time.monotonic() < deadline + READ_S and conn.recv(65536):
                pass
        except OSError:
            pass

"""Which ``Host`` a request may name (``MEDNET_ALLOWED_HOSTS``): the guard against DNS rebinding.

A page of another site whose name is made to resolve to this service's
address sends its own name as ``Host``; a request naming a host the service
does not answer for is refused (400) before anything else, the desk's
sign-in included. By default the service answers for ``localhost``, the
loopback addresses and the address it is bound to; bound to every address
(``0.0.0.0`` or ``::``), for any IP address typed as such. Names (a DNS
name in front of a reverse proxy) are listed in ``MEDNET_ALLOWED_HOSTS``,
comma-separated; ``*`` turns the check off. A request without ``Host``
(HTTP/1.0) is not refused: no browser sends one.

    >>> hosts = AllowedHosts("mednet.example.org")
    >>> [hosts.allows(h, ("127.0.0.1", 8000)) for h in (b"mednet.example.org:443", b"localhost:8000", b"evil.example")]
    [True, True, False]
    >>> AllowedHosts("").allows(b"10.1.2.3:8000", ("0.0.0.0", 8000)), AllowedHosts("").allows(b"[::1]:80", None)
    (True, True)
    >>> host_name(b"[::1]:8000"), host_name(b"Example.ORG.")
    ('::1', 'example.org')
"""

from __future__ import annotations

import ipaddress

#: What the service always answers for.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
#: Distinct ``Host`` values whose verdict is remembered (a stream of invented names is judged each time).
_REMEMBERED = 256


def host_name(value: bytes) -> str:
    """The host of a ``Host`` header value: lower case, without the port, brackets or a final dot."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    name, _, port = text.rpartition(":")
    if name and port.isdigit():
        text = name
    return text.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """The ``Host`` values one app answers for (see the module)."""

    def __init__(self, setting: str) -> None:
        names = {host_name(part.encode()) for part in setting.split(",") if part.strip()}
        self.any = "*" in names
        self.names = frozenset(names | LOCAL_NAMES)
        self._verdicts: dict[tuple[bytes, object], bool] = {}

    def allows(self, value: bytes | None, server: tuple[str, int | None] | None) -> bool:
        """Whether a request with ``Host: value`` to a server bound to ``server`` (the ASGI scope's) is answered."""
        if self.any or value is None:
            return True
        bound = server[0] if server else ""
        key = (value, bound)
        verdict = self._verdicts.get(key)
        if verdict is None:
            name = host_name(value)
            verdict = name in self.names or name == bound.lower() or (bound in _WILDCARDS and is_ip_address(name))
            if len(self._verdicts) < _REMEMBERED:
                self._verdicts[key] = verdict
        return verdict

    def expected(self) -> str:
        """The names allowed, for a refusal's wording."""
        return "*" if self.any else ", ".join(sorted(self.names))

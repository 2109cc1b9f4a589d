"""Optional dependencies: imported when first needed, or a :class:`~mednet.errors.MissingExtra` naming the extra.

    >>> require_extra("json", "planning").__name__
    'json'
    >>> require_extra("no_such_module_here", "planning")
    Traceback (most recent call last):
    ...
    mednet.errors.MissingExtra: no_such_module_here is needed for this: install mednet's 'planning' extra
    (pip install 'mednet[planning]')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from mednet.errors import MissingExtra


def require_extra(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or fail naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(module=module, extra=extra) from err


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A package's ``__getattr__`` (PEP 562) importing each public name from its home module on first use, so
    heavy or optional modules load only when asked for.

    >>> getattr_ = lazy_names("mednet", {"dumps": "json"})
    >>> getattr_("dumps").__module__
    'json'
    >>> getattr_("loads")
    Traceback (most recent call last):
    ...
    AttributeError: module 'mednet' has no attribute 'loads'
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return __getattr__

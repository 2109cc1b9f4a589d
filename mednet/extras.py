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
from types import ModuleType

from mednet.errors import MissingExtra


def require_extra(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or fail naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(module=module, extra=extra) from err

"""Bring a region in, and take it out again: tables (CSV/XLSX) and FHIR R4.

Public names load on first use (pandas, openpyxl and fhir.resources are the
``importing`` extra); see :mod:`mednet.importing.tables` for the sheets.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "import_tables": "mednet.importing.build", "import_files": "mednet.importing.build",
    "export_tables": "mednet.importing.export", "write_tables": "mednet.importing.export",
    "init_county": "mednet.importing.init",
    "region_to_bundle": "mednet.importing.fhir", "region_from_bundle": "mednet.importing.fhir",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mednet.importing' has no attribute {name!r}")


__all__ = list(_LAZY)

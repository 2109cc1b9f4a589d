"""Bring a region in, and take it out again: tables (CSV/XLSX) and FHIR R4.

Public names load on first use (pandas, openpyxl and fhir.resources are the
``importing`` extra); see :mod:`mednet.importing.tables` for the sheets.
"""

from __future__ import annotations

from mednet.extras import lazy_names

_LAZY = {
    "import_tables": "mednet.importing.build", "import_files": "mednet.importing.build",
    "export_tables": "mednet.importing.export", "write_tables": "mednet.importing.export",
    "init_county": "mednet.importing.init",
    "region_to_bundle": "mednet.importing.fhir", "region_from_bundle": "mednet.importing.fhir",
}


#: The modules of the ``importing`` extra.
EXTRA_MODULES = ("pandas", "python_calamine", "openpyxl", "fhir.resources", "coordTransform")


def require_importing() -> None:
    """Fail with :class:`~mednet.errors.MissingExtra` unless the ``importing`` extra is installed."""
    from mednet.extras import require_extra

    for module in EXTRA_MODULES:
        require_extra(module, "importing")


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [*_LAZY, "EXTRA_MODULES", "require_importing"]

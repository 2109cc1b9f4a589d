"""mednet: referral routing and coverage planning for China's medical communities.

    >>> import mednet
    >>> region = mednet.load_region("quzhou")
    >>> G = mednet.build_network(region)
    >>> report = mednet.validate_membership(region)
    >>> report.ok
    True
"""

__version__ = "0.1.0"

from mednet.errors import (  # noqa: E402
    InvalidCoordinates, InvalidRequest, MednetError, NoCapableInstitution, RegionDataError,
    UnknownCommunity, UnknownInstitution, UnknownRegion, UnknownSpecialty,
)
from mednet.models import Capability, Community, Institution, Link, Region, Role, Session, Tier  # noqa: E402
from mednet.network import build_network, compile_network, resolve_institution  # noqa: E402
from mednet.regions import list_regions, load_region, save_region  # noqa: E402
from mednet.specialties import SPECIALTIES, resolve_specialty  # noqa: E402
from mednet.validate import validate_membership  # noqa: E402

_LAZY = {  # heavier modules (numba, the planning extra) load on first use, not at import
    "Router": "mednet.routing", "Referral": "mednet.routing", "Point": "mednet.routing",
    "route_referral": "mednet.routing", "find_coverage_gaps": "mednet.coverage", "what_if": "mednet.coverage",
    "suggest_upgrades": "mednet.coverage", "Scenario": "mednet.coverage", "load_scenario": "mednet.coverage",
    # bringing regions in and out (the importing extra: pandas, openpyxl, fhir.resources)
    "import_tables": "mednet.importing", "import_files": "mednet.importing", "export_tables": "mednet.importing",
    "write_tables": "mednet.importing", "init_county": "mednet.importing",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mednet' has no attribute {name!r}")


__all__ = [*_LAZY,
    "Capability", "Community", "Institution", "InvalidCoordinates", "InvalidRequest", "Link", "MednetError",
    "NoCapableInstitution", "Region", "RegionDataError", "Role", "SPECIALTIES", "Session", "Tier",
    "UnknownCommunity", "UnknownInstitution", "UnknownRegion", "UnknownSpecialty", "build_network",
    "compile_network", "list_regions", "load_region", "resolve_institution", "resolve_specialty",
    "save_region", "validate_membership", "__version__",
]

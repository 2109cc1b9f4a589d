"""mednet: referral routing and coverage planning for China's medical communities.

    >>> import mednet
    >>> region = mednet.load_region("quzhou")
    >>> G = mednet.build_network(region)
    >>> report = mednet.validate_membership(region)
    >>> report.ok
    True
"""

__version__ = "0.2.0"

from typing import TYPE_CHECKING

from mednet.errors import (
    InvalidCoordinates,
    InvalidRequest,
    MednetError,
    NoCapableInstitution,
    RegionDataError,
    UnknownCommunity,
    UnknownInstitution,
    UnknownRegion,
    UnknownSpecialty,
)
from mednet.extras import lazy_names
from mednet.models import Capability, Community, Institution, Link, Region, Role, Session, Tier
from mednet.network import build_network, compile_network, resolve_institution
from mednet.regions import list_regions, load_region, save_region
from mednet.specialties import SPECIALTIES, resolve_specialty
from mednet.validate import validate_membership

if TYPE_CHECKING:  # the lazy names, for type checkers
    from mednet.importing import export_tables as export_tables
    from mednet.importing import import_files as import_files
    from mednet.importing import import_tables as import_tables
    from mednet.importing import init_county as init_county
    from mednet.importing import write_tables as write_tables
    from mednet.planning import Scenario as Scenario
    from mednet.planning import find_coverage_gaps as find_coverage_gaps
    from mednet.planning import load_scenario as load_scenario
    from mednet.planning import suggest_upgrades as suggest_upgrades
    from mednet.planning import what_if as what_if
    from mednet.routing import Point as Point
    from mednet.routing import Referral as Referral
    from mednet.routing import Router as Router
    from mednet.routing import route_referral as route_referral

_LAZY = {  # heavier modules (numba, the planning extra) load on first use, not at import
    "Router": "mednet.routing", "Referral": "mednet.routing", "Point": "mednet.routing",
    "route_referral": "mednet.routing", "find_coverage_gaps": "mednet.planning", "what_if": "mednet.planning",
    "suggest_upgrades": "mednet.planning", "Scenario": "mednet.planning", "load_scenario": "mednet.planning",
    # bringing regions in and out (the importing extra: pandas, openpyxl, fhir.resources)
    "import_tables": "mednet.importing", "import_files": "mednet.importing", "export_tables": "mednet.importing",
    "write_tables": "mednet.importing", "init_county": "mednet.importing",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [*_LAZY,
    "Capability", "Community", "Institution", "InvalidCoordinates", "InvalidRequest", "Link", "MednetError",
    "NoCapableInstitution", "Region", "RegionDataError", "Role", "SPECIALTIES", "Session", "Tier",
    "UnknownCommunity", "UnknownInstitution", "UnknownRegion", "UnknownSpecialty", "build_network",
    "compile_network", "list_regions", "load_region", "resolve_institution", "resolve_specialty",
    "save_region", "validate_membership", "__version__",
]

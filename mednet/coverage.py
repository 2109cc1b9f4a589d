"""The planning names under the module that held them before :mod:`mednet.planning` (kept for callers).

    >>> from mednet.coverage import find_coverage_gaps
    >>> find_coverage_gaps.__module__
    'mednet.planning.gaps'
"""

from mednet.planning import *  # noqa: F403
from mednet.planning import __all__  # noqa: F401

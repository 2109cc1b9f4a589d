"""``python -m mednet.cli``: the same as the ``mednet`` command."""

import sys

from mednet.cli import main

sys.exit(main())

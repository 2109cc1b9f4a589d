"""``python -m mednet.cli``: the same as the ``mednet`` command."""

import sys

from mednet.cli import main

if __name__ == "__main__":
    sys.exit(main())

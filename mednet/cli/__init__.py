"""The ``mednet`` command line: one module per subcommand in this package.

Each subcommand module defines ``register(subparsers)`` which adds its
parser and sets ``func(args) -> int`` (the exit code). Errors a user can
cause print one line and exit 2; no traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mednet import __version__
from mednet.errors import MednetError

COMMANDS = ("init", "import", "export", "validate", "route", "coverage", "serve", "bench")

#: Subcommands whose module name differs from the command (``import`` is a keyword).
MODULES = {"import": "import_"}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mednet: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mednet", description="Route referrals and plan coverage in China's medical communities.")
    parser.add_argument("--version", action="version", version=f"mednet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mednet.cli.{MODULES.get(name, name)}")
        except ModuleNotFoundError as err:
            if err.name == f"mednet.cli.{MODULES.get(name, name)}":
                continue  # subcommand not part of this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except MednetError as err:
        print(f"mednet: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def parse_lat_lon(text: str) -> tuple[float, float]:
    """``"29.01,118.35"`` → ``(29.01, 118.35)``; for ``--at`` and ``--near`` options."""
    parts = text.replace("，", ",").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected LAT,LON (two numbers), got {text!r}") from err
    return lat, lon


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from err
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value:g}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


if __name__ == "__main__":  # python -m mednet.cli
    sys.exit(main())

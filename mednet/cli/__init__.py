"""The ``mednet`` command line: one module per subcommand in this package.

Each subcommand module defines ``register(subparsers)`` which adds its
parser and sets ``func(args) -> int`` (the exit code). Errors a user can
cause print one line and exit 2, and so does every operating-system error
(a read-only folder, a full disk, a closed standard output); no traceback
reaches the terminal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from mednet import __version__
from mednet.errors import InvalidRequest, MednetError, MissingExtra

T = TypeVar("T")

COMMANDS = ("init", "import", "export", "validate", "route", "coverage", "roads", "travel", "serve", "bench", "db",
            "keys", "quotas", "referrals", "plan", "indicators", "service-levels")

#: Subcommands whose module name differs from the command (``import`` is a keyword).
MODULES = {"import": "import_", "service-levels": "service_levels"}
#: The extra a subcommand needs beyond the core install: said when its module cannot be imported.
EXTRAS = {"db": "ledger", "keys": "ledger", "quotas": "ledger", "referrals": "ledger", "serve": "service",
          "bench": "all", "init": "importing", "import": "importing", "export": "importing", "roads": "travel",
          "plan": "planning", "indicators": "ledger", "service-levels": "ledger"}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mednet: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``only`` one (its module alone imported: ``mednet serve`` binds
    its port without waiting for the other commands' imports)."""
    parser = _Parser(prog="mednet", description="Route referrals and plan coverage in China's medical communities.")
    parser.add_argument("--version", action="version", version=f"mednet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in (only,) if only in COMMANDS else COMMANDS:
        try:
            module = importlib.import_module(f"mednet.cli.{MODULES.get(name, name)}")
        except ModuleNotFoundError as err:
            if err.name == f"mednet.cli.{MODULES.get(name, name)}":
                continue  # subcommand not part of this build
            if not err.name or err.name.split(".")[0] == "mednet":
                raise
            _register_missing(sub, name, err.name.split(".")[0])  # an extra not installed: the others still work
            continue
        module.register(sub)
    return parser


def _register_missing(sub: argparse._SubParsersAction, name: str, module: str) -> None:
    """A subcommand whose optional dependency is missing: any use of it says which extra to install."""
    extra = EXTRAS.get(name, "all")

    def missing(args: argparse.Namespace) -> int:
        raise MissingExtra(module=module, extra=extra)

    p = sub.add_parser(name, help=f"(needs the {extra!r} extra: pip install 'mednet[{extra}]')", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=missing)


#: Set when Ctrl-C (SIGINT) reached a command: some libraries turn the interrupt into an error of their own
#: (numba, stopped while it compiles, raises RuntimeError), which is then an interruption too, not a fault.
INTERRUPTED = threading.Event()


def _interrupt(signum: int, frame: object) -> NoReturn:
    INTERRUPTED.set()
    raise KeyboardInterrupt


def _unraisable(hook: Any) -> None:
    """Python's report of an error it could not raise, except the interrupt (raised inside a library's callback,
    where it cannot unwind: the library then fails in its own way, see :data:`INTERRUPTED`)."""
    if not isinstance(hook.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(hook)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    INTERRUPTED.clear()  # this command's
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
        sys.unraisablehook = _unraisable
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except MednetError as err:  # in the command's language (--lang) where it has one and the error is worded in it
        print(f"mednet: error: {err.in_lang(getattr(args, 'lang', None) or err.lang)}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as err:  # an optional dependency imported when the command runs
        if not err.name or err.name.split(".")[0] == "mednet":
            raise
        missing = MissingExtra(module=err.name.split(".")[0], extra=EXTRAS.get(args.command, "all"))
        print(f"mednet: error: {missing}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of standard output went away
        _silence_stdout()
        print("mednet: error: standard output was closed before everything was written (EPIPE)", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # a read-only folder, a full disk, a missing file...: one line, never a traceback
        from mednet.cli.output import describe_os_error

        print(f"mednet: error: {describe_os_error(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        if INTERRUPTED.is_set():  # the interrupt, as another library reported it
            return 130
        raise


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def from_check(check: Callable[[Any], T], parse: Callable[[str], Any] = str) -> Callable[[str], T]:
    """An argparse ``type`` from one of the library's request checks: the same rule, said as a usage error.

    ``parse`` turns the text into what the check takes (a number, a date-time).

    >>> from mednet.routing.request import check_max_km
    >>> from_check(check_max_km, float)("30")
    30.0
    >>> from_check(check_max_km, float)("-5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a number > 0, got -5.0
    """
    def convert(text: str) -> T:
        try:
            value = parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected {_EXPECTED.get(parse, 'a value')}, got {text!r}") from err
        try:
            return check(value)
        except InvalidRequest as err:
            raise argparse.ArgumentTypeError(f"{err.rule}, got {err.value!r}") from err

    convert.__name__ = check.__name__.removeprefix("check_").removeprefix("parse_")  # argparse names it in errors
    return convert


def add_allow_invalid(parser: argparse.ArgumentParser) -> None:
    """``--allow-invalid``: use a region even when its validation has errors (refused by default)."""
    parser.add_argument("--allow-invalid", action="store_true",
                        help="use a region even when its validation has errors (mednet validate lists them)")


def positive_int(text: str) -> int:
    """A whole number >= 1 (ports, worker counts, how many sites)."""
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (days, minutes)."""
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from err
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


_EXPECTED: dict[Callable[[str], Any], str] = {
    float: "a number", int: "a whole number", dt.datetime.fromisoformat: "an ISO date-time such as 2026-11-03T09:00",
}


if __name__ == "__main__":  # python -m mednet.cli
    sys.exit(main())

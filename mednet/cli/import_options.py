"""What every command that imports a planner's tables shares: its options, and how it ends.

``--lang zh|en`` (Chinese by default), ``--problems FILE.csv|FILE.json``
(every problem, for a spreadsheet's filter), ``--annotate OUT.xlsx`` (the
planner's workbook with each problem as a comment on its cell),
``--strict-columns`` (refuse columns the sheet does not declare) and
``--format text|json``. :func:`check_import_options` refuses unusable
targets before any work; :func:`finish_import` prints the summary and the
list, and writes the command's outputs together with the problem list and
the annotated copy, all of them or none, and the outputs only when no error
remains (the reports are written either way). A command for another sheet
(population, monthly aggregates) calls the same three functions.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mednet.errors import InvalidRequest
from mednet.importing.problems import (
    CellProblem,
    Lang,
    format_problems,
    problems_file_kind,
    problems_json,
    write_problems,
)

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_import_options(parser: argparse.ArgumentParser) -> None:
    """The shared options of a table import."""
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the problems: zh (Chinese, default) or en (English)")
    parser.add_argument("--problems", metavar="FILE.csv|FILE.json",
                        help="also write every problem (errors, warnings, notes) to a CSV or JSON file")
    parser.add_argument("--annotate", metavar="OUT.xlsx",
                        help="also write a copy of the workbook with each problem as a comment on its cell")
    parser.add_argument("--strict-columns", action="store_true",
                        help="refuse columns the sheets do not declare (by default kept aside, with a note)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="how to print the problems (json: every field, both languages)")


def check_import_options(args: argparse.Namespace, *, inputs: Sequence[str], outputs: Sequence[str] = ()) -> None:
    """Refuse, before reading anything, an output or report file that cannot be written (a folder, a socket, a
    missing folder) or would overwrite an input."""
    from mednet.cli.output import check_targets

    sources = {Path(p).resolve() for p in inputs}
    for option, path in (("--problems", args.problems), ("--annotate", args.annotate)):
        if path is None:
            continue
        target = Path(path)
        if option == "--problems":
            try:
                problems_file_kind(target)
            except ValueError as err:
                raise InvalidRequest(option, path, str(err)) from None
        elif target.suffix.lower() != ".xlsx":
            raise InvalidRequest(option, path, "must end in .xlsx")
        if target.resolve() in sources or path in outputs:
            raise InvalidRequest(option, path, "must not be one of the files read or written")
        if not target.parent.resolve().is_dir():
            raise InvalidRequest(option, path, "must be in an existing folder")
    check_targets([Path(p) for p in (*outputs, args.problems, args.annotate) if p])


def finish_import(args: argparse.Namespace, problems: Sequence[CellProblem], *, tables: Sequence[object],
                  outputs: Mapping[Path, Callable[[str], object]], done: Callable[[Lang], str]) -> int:
    """Print the problems, write the reports and (when no error remains) ``outputs``, all or none; the exit code.

    ``problems`` in the order to list them (``Collector.sorted()``); ``tables`` as read (the annotated copy is
    theirs); ``done(lang)`` is the line printed once the outputs are written.
    """
    from mednet.cli.output import write_files, write_stdout

    lang: Lang = args.lang
    failed = any(p.severity == "error" for p in problems)
    files: dict[Path, Callable[[str], object]] = {} if failed else dict(outputs)
    if args.problems:
        files[Path(args.problems)] = lambda tmp: write_problems(problems, tmp, lang=lang)
    if args.annotate:
        from mednet.importing.annotate import annotate_workbook

        files[Path(args.annotate)] = lambda tmp: annotate_workbook(problems, tables, tmp, lang=lang)  # type: ignore
    write_files(files)
    if args.format == "json":
        write_stdout(problems_json(problems))
    elif problems:
        write_stdout(format_problems(problems, lang=lang))
    reports = [str(p) for p in (args.problems, args.annotate) if p]
    if failed:
        if args.format != "json":
            listed = ("、" if lang == "zh" else ", ").join(reports)
            said = ("未写入任何文件" if lang == "zh" else "nothing was written") if not reports else (
                f"只写入了问题报告：{listed}" if lang == "zh" else f"wrote only the reports: {listed}")
            write_stdout(said)
        return EXIT_PROBLEMS
    if args.format != "json":
        write_stdout(done(lang) + (("；问题报告：" + "、".join(reports)) if reports and lang == "zh" else
                                   (f"; reports: {', '.join(reports)}" if reports else "")))
    else:
        import sys

        print(done(lang), file=sys.stderr)
    return EXIT_OK


__all__ = ["add_import_options", "check_import_options", "finish_import"]

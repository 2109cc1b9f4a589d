"""Regions as routing, coverage and the service take them: loaded only when their validation has no errors.

One file (:func:`load_valid_region`) or a folder (:func:`read_region_folder`:
every file sorted into valid, invalid and unreadable, with one line per file
and code for each refused one). A file whose name is not its region's id is
refused even with ``allow_invalid``: the service would answer under two names.

    >>> load_valid_region("quzhou").id
    'quzhou'
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mednet.errors import InvalidRegion, RegionDataError
from mednet.models import Region
from mednet.regions import list_regions, load_region, region_path
from mednet.validate import ValidationReport, validate_membership


def require_valid(report: ValidationReport) -> ValidationReport:
    """The report, when it has no errors; else :class:`~mednet.errors.InvalidRegion` with one line per code."""
    if report.ok:
        return report
    by_code: dict[str, list[str]] = defaultdict(list)
    by_code_zh: dict[str, list[str]] = defaultdict(list)
    for problem in report.errors:
        by_code[problem.code].append(problem.message)
        by_code_zh[problem.code].append(problem.text("zh"))
    raise InvalidRegion(report.region, dict(by_code), errors_zh=dict(by_code_zh))


def load_valid_region(name_or_path: str | os.PathLike[str], *, allow_invalid: bool = False) -> Region:
    """A region by id or path, refused (:class:`~mednet.errors.InvalidRegion`) when its validation has errors,
    unless ``allow_invalid``; what routing, coverage and the service load."""
    path = region_path(name_or_path)
    region = load_region(path)
    if not allow_invalid:
        require_valid(validate_membership(region, file=path))
    return region


@dataclass(frozen=True)
class RegionFolder:
    """Every region file of a folder, sorted: the valid regions, the readable ones whose validation has errors
    (served only with ``allow_invalid``), and the refused files (unreadable, or named other than their region's
    id: the service would answer under two names), each by file name stem.

    >>> from mednet.regions import regions_dir
    >>> folder = read_region_folder(regions_dir())
    >>> sorted(folder.valid), folder.invalid, folder.broken
    (['huzhou', 'luqiao', 'minhang', 'quzhou'], {}, {})
    """

    folder: Path
    valid: dict[str, Region]
    invalid: dict[str, tuple[Region, InvalidRegion]]
    broken: dict[str, RegionDataError | InvalidRegion]

    def usable(self, *, allow_invalid: bool = False) -> dict[str, Region]:
        """The regions to serve, in file order: the valid ones, and with ``allow_invalid`` the invalid ones."""
        extra = {name: region for name, (region, _) in self.invalid.items()} if allow_invalid else {}
        return {name: region for name, region in sorted({**self.valid, **extra}.items())}

    def refused(self, *, allow_invalid: bool = False) -> dict[str, RegionDataError | InvalidRegion]:
        """The files not served and why, by file name stem."""
        invalid = {} if allow_invalid else {name: err for name, (_, err) in self.invalid.items()}
        return dict(sorted({**self.broken, **invalid}.items()))

    def problem_lines(self, *, allow_invalid: bool = False) -> list[str]:
        """One line per refused file and error code: ``FILE: [code] first message (and N more)``."""
        return [f"{name}.json: {line}" for name, err in self.refused(allow_invalid=allow_invalid).items()
                for line in refusal_lines(err)]

    def require_all(self, *, allow_invalid: bool = False) -> dict[str, Region]:
        """:meth:`usable`, when nothing is refused; else the one refusal, or :class:`RegionDataError` naming every
        refused file (one line per file and code)."""
        refused = self.refused(allow_invalid=allow_invalid)
        if len(refused) == 1:
            raise next(iter(refused.values()))
        if refused:
            count = len(self.valid) + len(self.invalid) + len(self.broken)
            listed = "\n".join(f"  {line}" for line in self.problem_lines(allow_invalid=allow_invalid))
            raise RegionDataError(str(self.folder), "", f"{len(refused)} of {count} region files cannot be served:\n"
                                  + listed, rule_zh=f"{count} 个区域文件中有 {len(refused)} 个无法使用：\n" + listed)
        return self.usable(allow_invalid=allow_invalid)


def refusal_lines(err: RegionDataError | InvalidRegion) -> list[str]:
    """Why a region file is refused, one line per error code (an unreadable file: ``[unreadable]`` and its rule).

    >>> refusal_lines(RegionDataError("x.json", "institutions[3].lat", "must be <= 90"))
    ['[unreadable] institutions[3].lat: must be <= 90']
    """
    if isinstance(err, InvalidRegion):
        return [line.strip() for line in str(err).splitlines()[1:]]
    return [f"[unreadable] {err.place + ': ' if err.place else ''}{err.rule}"]


def read_region_folder(folder: Path) -> RegionFolder:
    """Read and validate every region file of ``folder`` (:class:`RegionFolder`); raises nothing for a file."""
    valid: dict[str, Region] = {}
    invalid: dict[str, tuple[Region, InvalidRegion]] = {}
    broken: dict[str, RegionDataError | InvalidRegion] = {}
    for name in list_regions(folder):
        path = folder / f"{name}.json"
        try:
            region = load_region(path)
        except RegionDataError as err:
            broken[name] = err
            continue
        report = validate_membership(region, file=path)
        mismatch = [p.message for p in report.errors if p.code == "file-name-id"]
        if mismatch:
            broken[name] = InvalidRegion(name, {"file-name-id": mismatch})
            continue
        try:
            require_valid(report)
        except InvalidRegion as err:
            invalid[name] = (region, err)
            continue
        valid[name] = region
    return RegionFolder(folder, valid, invalid, broken)


def load_valid_regions(folder: Path, *, allow_invalid: bool = False) -> dict[str, Region]:
    """Every region file of a folder, by file name; every broken or invalid file reported at once
    (:class:`~mednet.errors.RegionDataError`, one line per file and code). A file whose name is not its region's
    id is refused even with ``allow_invalid``: the service would answer under two names."""
    return read_region_folder(folder).require_all(allow_invalid=allow_invalid)

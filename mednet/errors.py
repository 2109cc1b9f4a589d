"""Errors raised by mednet.

Every error derives from :class:`MednetError` and from the builtin it is a
kind of, so callers can catch either::

    >>> from mednet.errors import UnknownInstitution
    >>> err = UnknownInstitution("华铺", known=["华埠镇卫生院", "杨林镇卫生院"])
    >>> isinstance(err, KeyError), str(err)
    (True, "unknown institution '华铺'; did you mean '华埠镇卫生院'?")
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mednet.importing.problems import CellProblem

#: Characters of a name the "did you mean" matcher looks at: the cost of a suggestion is bounded by it (names
#: longer than any known one are typos of their start, or not names at all).
SUGGEST_MAX_CHARS = 64


def closest_names(name: str, known: Iterable[str], *, n: int = 3) -> list[str]:
    """The known names nearest to ``name``, best first (may be empty).

    Only the first :data:`SUGGEST_MAX_CHARS` characters of ``name`` and of each
    known name are compared, and candidates whose quick upper bound cannot
    reach the cut are skipped, so the cost stays bounded whatever the input.

    >>> closest_names("pediatrics", ["paediatrics", "pathology"])
    ['paediatrics']
    >>> closest_names("paediatrics" + "x" * 7000, ["paediatrics", "pathology"])
    ['paediatrics']
    """
    query = name.strip().casefold()[:SUGGEST_MAX_CHARS]
    if not query:
        return []
    scored: list[tuple[tuple[float, float], str]] = []
    matcher = difflib.SequenceMatcher(None, "", query)  # seq2 (the query) is analysed once
    for candidate in dict.fromkeys(known):
        key = candidate.casefold()[:SUGGEST_MAX_CHARS]
        contains = 0.9 if query in key or key in query else 0.0
        matcher.set_seq1(key[: len(query)])  # "华铺" ~ "华埠镇卫生院"
        prefix = matcher.ratio() if matcher.quick_ratio() >= 0.5 else 0.0
        matcher.set_seq1(key)  # the whole name also breaks ties, so it is computed whenever the name qualifies
        whole = matcher.ratio() if max(prefix, contains) >= 0.5 or matcher.quick_ratio() >= 0.5 else 0.0
        best = max(whole, prefix, contains)
        if best >= 0.5:
            scored.append(((best, whole), candidate))
    scored.sort(key=lambda sk: sk[0], reverse=True)
    return [k for _, k in scored[:n]]


class MednetError(Exception):
    """Root of every error mednet raises on purpose.

    ``field`` names the request parameter at fault, when one is (the
    service reports it); each error is raised with it. An error worded in
    Chinese too keeps that wording in ``zh``; ``str()`` gives it when
    ``lang`` is ``"zh"`` (routing sets ``lang`` to its request's language,
    Chinese by default), else the English of ``args[0]``:

    >>> err = InvalidRequest("max_km", -5.0, "must be > 0", rule_zh="必须大于 0")
    >>> str(err), str(err.in_lang("zh")), err.field
    ('`max_km` must be > 0, got -5.0', '参数 `max_km` 必须大于 0，收到 -5.0', 'max_km')
    """

    field: str | None = None
    zh: str | None = None
    lang: str = "en"

    def in_lang(self, lang: str) -> MednetError:
        """This error, speaking ``lang`` (``zh`` or ``en``) where it is worded in it."""
        self.lang = lang
        return self

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        if self.lang == "zh" and self.zh is not None:
            return self.zh
        return str(self.args[0]) if self.args else self.__class__.__name__

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as it is (its message and fields), not rebuilt from ``args``: an error crosses from a
        slow-work process to the service as it was raised.

        >>> import pickle
        >>> back = pickle.loads(pickle.dumps(InvalidRequest("max_km", -5.0, "must be > 0")))
        >>> str(back), back.field
        ('`max_km` must be > 0, got -5.0', 'max_km')
        """
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[MednetError], args: tuple[Any, ...], state: dict[str, Any]) -> MednetError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class _UnknownName(MednetError, KeyError):
    kind, kind_zh = "name", "名称"

    def __init__(
        self, name: str, *, known: Iterable[str] = (), where: str | None = None, suggestions: list[str] | None = None,
        field: str | None = None, detail: str | None = None,
    ) -> None:
        self.name = name
        self.field = field or self.kind
        self.suggestions = closest_names(str(name), known) if suggestions is None else suggestions
        message = f"unknown {self.kind} {name!r}"
        if where:
            message += f" in {where}"
        if detail:
            message += f" ({detail})"
        if self.suggestions:
            message += f"; did you mean {self.suggestions[0]!r}?"
        self.zh = f"未知的{self.kind_zh}“{name}”" + (f"；是否要找“{self.suggestions[0]}”？" if self.suggestions else "")
        super().__init__(message)


class UnknownInstitution(_UnknownName):
    """No institution has this id, name or alias."""

    kind, kind_zh = "institution", "机构"


class UnknownSpecialty(_UnknownName):
    """No specialty has this code, label or alias."""

    kind, kind_zh = "specialty", "专科"


class UnknownRegion(_UnknownName):
    """No region file has this name."""

    kind, kind_zh = "region", "地区"


class UnknownCounty(_UnknownName):
    """No county or district of the official list has this name or code."""

    kind, kind_zh = "county", "区县"


class UnknownTownship(_UnknownName):
    """No official township or street of a county has this name."""

    kind, kind_zh = "township", "乡镇（街道）"


class UnknownCommunity(_UnknownName):
    """No community has this id or name."""

    kind, kind_zh = "community", "医共体"


class RegionDataError(MednetError, ValueError):
    """A region file cannot be used: names the file, the place in it and the rule — in Chinese too when the
    rule is given in Chinese (``rule_zh``; ``place_zh`` where the place has words, such as a line and column).

    >>> err = RegionDataError("bad.json", "line 2 column 5", "invalid JSON", rule_zh="不是有效的 JSON",
    ...                       place_zh="第 2 行第 5 列")
    >>> str(err), str(err.in_lang("zh"))
    ('bad.json: line 2 column 5: invalid JSON', 'bad.json：第 2 行第 5 列：不是有效的 JSON')
    """

    def __init__(self, file: str, place: str, rule: str, *, rule_zh: str | None = None,
                 place_zh: str | None = None) -> None:
        self.file, self.place, self.rule = str(file), place, rule
        if rule_zh is not None:
            where = place_zh or place
            self.zh = f"{file}：{where}：{rule_zh}" if where else f"{file}：{rule_zh}"
        super().__init__(f"{file}: {place}: {rule}" if place else f"{file}: {rule}")


class InvalidRegion(MednetError, ValueError):
    """A region whose validation found errors, refused for routing, coverage and serving.

    The message has one line per error code (how many, and the first);
    ``region`` and ``codes`` give them by keyword.

    >>> print(InvalidRegion("other", {"file-name-id": ["other.json holds region 'quzhou'"], "lead-count": ["a", "b"]}))
    region 'other' has validation errors (mednet validate lists them all):
      [file-name-id] other.json holds region 'quzhou'
      [lead-count] a (and 1 more)
    """

    def __init__(self, region: str, errors: dict[str, list[str]], *,
                 errors_zh: dict[str, list[str]] | None = None) -> None:
        self.region, self.codes = region, tuple(errors)
        lines = [f"region {region!r} has validation errors (mednet validate lists them all):"]
        for code, messages in errors.items():
            more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
            lines.append(f"  [{code}] {messages[0]}{more}")
        if errors_zh:
            zh = [f"区域“{region}”未通过校验（mednet validate 列出全部问题）："]
            for code, messages in errors_zh.items():
                more = f"（另有 {len(messages) - 1} 条）" if len(messages) > 1 else ""
                zh.append(f"  [{code}] {messages[0]}{more}")
            self.zh = "\n".join(zh)
        super().__init__("\n".join(lines))


class TableImportError(MednetError, ValueError):
    """Tables that cannot become what they were read for: every problem found, each with its place and rule.

    ``problems`` holds them all (file, sheet, row, column, cell, value, rule, severity, message in English and
    Chinese), the notes and warnings of the run too; ``str()`` gives the summary first, then the list, in
    English, or in Chinese with ``in_lang("zh")``.
    """

    def __init__(self, problems: Iterable[CellProblem]) -> None:
        from mednet.importing.problems import format_problems

        self.problems: tuple[CellProblem, ...] = tuple(problems)
        self.zh = format_problems(self.problems, lang="zh") + "\n未写入任何文件。"
        super().__init__(format_problems(self.problems, lang="en") + "\nnothing was written")


class InvalidRequest(MednetError, ValueError):
    """A parameter has a value the operation cannot accept.

    ``code`` names the rule broken, for callers that word it themselves
    (the desk page): e.g. ``not_positive``, ``required``, ``only_down``,
    ``ambiguous``, ``swapped``, ``out_of_range``, ``outside_china``,
    ``too_far``; the ledger's ``early_arrival``, ``other_needs_words``,
    ``not_offered``; ``invalid`` when no finer code is given.

    >>> err = InvalidRequest("max_km", -5.0, "must be > 0", code="not_positive")
    >>> str(err), err.field, err.code
    ('`max_km` must be > 0, got -5.0', 'max_km', 'not_positive')
    >>> InvalidRequest("max_km/max_minutes", (None, None), "give one", rule_zh="须给出一个").zh
    '参数 `max_km/max_minutes` 须给出一个，但未给出'
    """

    def __init__(self, parameter: str, value: object, rule: str, *, field: str | None = None,
                 rule_zh: str | None = None, code: str = "invalid") -> None:
        self.parameter, self.value, self.rule, self.rule_zh, self.code = parameter, value, rule, rule_zh, code
        self.field = field or parameter
        absent = value is None or (isinstance(value, tuple) and all(v is None for v in value))
        if rule_zh is not None:
            self.zh = f"参数 `{parameter}` {rule_zh}，" + ("但未给出" if absent else f"收到 {value!r}")
        super().__init__(f"`{parameter}` {rule}, " + ("none given" if absent else f"got {value!r}"))


class InvalidCoordinates(InvalidRequest):
    """A latitude/longitude pair out of range, swapped, or outside the area served."""


class NoCapableInstitution(MednetError, LookupError):
    """No institution offers the specialty within the constraints given.

    Machine-readable beside the wording: ``reason`` (who was looked for:
    ``higher_tier`` going up, ``home_community`` going down, ``elsewhere``
    in an emergency) and ``limits`` (the limits that left no one:
    ``max_km``, ``max_minutes``), with the ``nearest`` beyond them.
    """

    def __init__(self, message: str, *, specialty: str | None = None, origin: str | None = None,
                 nearest: str | None = None, nearest_km: float | None = None, field: str | None = None,
                 zh: str | None = None, reason: str | None = None, limits: tuple[str, ...] = ()) -> None:
        self.specialty, self.origin, self.field, self.zh = specialty, origin, field, zh
        self.nearest, self.nearest_km = nearest, nearest_km  # the nearest capable one beyond the limit, if any
        self.reason, self.limits = reason, limits
        super().__init__(message)


class ScenarioDataError(RegionDataError):
    """A scenario file cannot be used: names the file, the place in it and the rule."""


class MissingExtra(MednetError, ImportError):
    """An optional dependency is not installed; names the module and the extra that brings it.

    >>> str(MissingExtra(module="pandas", extra="planning"))
    "pandas is needed for this: install mednet's 'planning' extra (pip install 'mednet[planning]')"
    """

    def __init__(self, *, module: str, extra: str) -> None:
        self.module, self.extra = module, extra
        super().__init__(f"{module} is needed for this: install mednet's {extra!r} extra "
                         f"(pip install 'mednet[{extra}]')")


class TravelDataError(RegionDataError):
    """A travel file, OSM extract or OD table cannot be used: names the file, the place in it and the rule.

    >>> str(TravelDataError("od.csv", "row 3", "`minutes` must be a number >= 0, got 'abc'"))
    "od.csv: row 3: `minutes` must be a number >= 0, got 'abc'"
    """


class IllegalTransition(MednetError, ValueError):
    """An action that does not apply in the referral's state; names the actions that do.

    >>> str(IllegalTransition("arrived", "book", ("complete",)))
    'cannot `book` a referral that is arrived; allowed: complete'
    """

    def __init__(self, state: str, action: str, allowed: tuple[str, ...]) -> None:
        self.state, self.action, self.allowed = state, action, tuple(allowed)
        choices = ", ".join(self.allowed) or "none (the referral is closed)"
        super().__init__(f"cannot `{action}` a referral that is {state}; allowed: {choices}")


class AlreadySentHome(MednetError, ValueError):
    """A referral that already has a down-referral in force (HTTP 409): names it.

    >>> str(AlreadySentHome("R20261125-000042", "R20261130-000051", "requested"))
    'referral R20261125-000042 was already sent home as R20261130-000051 (requested); follow that one, or ...'
    """

    def __init__(self, number: str, existing: str, state: str) -> None:
        self.number, self.existing, self.state, self.field = number, existing, state, "number"
        super().__init__(f"referral {number} was already sent home as {existing} ({state}); follow that one, "
                         "or cancel it first")


class AttachmentRefused(MednetError, ValueError):
    """A file the referral cannot take because of what it already holds (HTTP 409): the same content, or one
    file too many.

    >>> err = AttachmentRefused("scan.png", "is already attached (same SHA-256)", "已经上传过（内容相同）")
    >>> str(err), err.zh, err.field
    ('`file` scan.png is already attached (same SHA-256)', '附件 scan.png 已经上传过（内容相同）', 'file')
    """

    def __init__(self, name: str, rule: str, rule_zh: str) -> None:
        self.name, self.field, self.rule_zh = name, "file", rule_zh
        self.zh = f"附件 {name} {rule_zh}"
        super().__init__(f"`file` {name} {rule}")


class StaleVersion(MednetError, ValueError):
    """A write based on an older version of a referral than the stored one (HTTP 412)."""

    def __init__(self, number: str, expected: int, stored: int) -> None:
        self.number, self.expected, self.stored, self.field = number, expected, stored, "If-Match"
        super().__init__(f"referral {number} is at version {stored}, not {expected} (If-Match); "
                         "read it again and retry")


class SlotUnavailable(MednetError, LookupError):
    """A slot or quota unit that is taken, full, outside the booking window or unknown (HTTP 409); ``code`` names
    which (``taken``, ``quota_used_up``, ``no_quota``, ``no_session``, ``outside_window``) for callers that word it
    themselves (the desk page).

    >>> err = SlotUnavailable("quota/kh-people/general_surgery/2026-03-02", "the day's quota is used up",
    ...                       code="quota_used_up")
    >>> err.code, str(err)
    ('quota_used_up', "slot 'quota/kh-people/general_surgery/2026-03-02' cannot be taken: the day's quota is used up")
    """

    def __init__(self, slot: str, why: str, *, code: str = "unavailable") -> None:
        self.slot, self.why, self.code, self.field = slot, why, code, "slot"
        super().__init__(f"slot {slot!r} cannot be taken: {why}")


class UnknownReferral(_UnknownName):
    """No referral has this number."""

    kind, kind_zh = "referral", "转诊单"


class UnknownAttachment(_UnknownName):
    """The referral holds no attachment with this id."""

    kind, kind_zh = "attachment", "附件"


class NotAuthenticated(MednetError, PermissionError):
    """No API key, or one that is unknown or revoked (HTTP 401)."""


class Forbidden(MednetError, PermissionError):
    """A known key whose role or institution does not allow the action (HTTP 403).

    ``reason`` says which rule refused it, for a caller to word: ``role`` (the key's role), ``planner`` (a
    read-only key), ``not_party`` (a referral neither to nor from the desk), ``origin_only`` or
    ``destination_only`` (the other side's desk owns the action), ``region`` (another region's desk).

    >>> Forbidden("referral R1 is neither to nor from kh-huabu", reason="not_party").reason
    'not_party'
    """

    def __init__(self, message: str, *, reason: str = "role") -> None:
        self.reason = reason
        super().__init__(message)


class IdempotencyConflict(MednetError, ValueError):
    """An idempotency key reused for a different request (HTTP 422)."""

    def __init__(self, key: str) -> None:
        self.key, self.field = key, "Idempotency-Key"
        super().__init__(f"`Idempotency-Key` {key!r} was already used for a different request; "
                         "use a new key for a new request")


class LedgerUnavailable(MednetError, RuntimeError):
    """The ledger's database cannot be reached or migrated (HTTP 503)."""


class UnwritableTarget(MednetError, OSError):
    """A path mednet will not write: a folder, a socket, anything but a new path, a regular file, a device
    or a FIFO (a file mednet writes never replaces anything but a regular file).

    >>> str(UnwritableTarget("/run/app.sock", "a socket"))
    '/run/app.sock: is a socket; mednet writes a new file, replaces a regular file, or writes a device or FIFO in place'
    """

    def __init__(self, path: object, kind: str, *, expected: str | None = None) -> None:
        self.path, self.kind = str(path), kind
        super().__init__(f"{path}: is {kind}; " + (expected or "mednet writes a new file, replaces a regular file, "
                                                   "or writes a device or FIFO in place"))

"""Load and save region files (``data/regions/<id>.json``).

    >>> region = load_region("quzhou")
    >>> region.id, len(region.communities)
    ('quzhou', 6)

A broken file fails with the file, the place in it and the rule broken::

    >>> load_region("quzou")
    Traceback (most recent call last):
    ...
    mednet.errors.UnknownRegion: unknown region 'quzou' in ...; did you mean 'quzhou'?
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mednet.errors import RegionDataError, UnknownRegion
from mednet.files import write_text_file
from mednet.models import Region
from mednet.places import data_dir

SCHEMA_FILE = "region.schema.json"
M = TypeVar("M", bound=BaseModel)


def regions_dir() -> Path:
    """The folder of region files: ``$MEDNET_REGIONS_DIR`` or the bundled ``data/regions``."""
    env = os.environ.get("MEDNET_REGIONS_DIR")
    return Path(env) if env else data_dir() / "regions"


def list_regions(folder: Path | None = None) -> list[str]:
    """Ids of the region files in a folder, sorted.

    >>> "quzhou" in list_regions()
    True
    """
    folder = folder or regions_dir()
    return sorted(p.stem for p in folder.glob("*.json") if p.name != SCHEMA_FILE and not _is_side_file(p.name))


def _is_side_file(name: str) -> bool:
    """Files beside the region files that are not regions: schemas and travel layers (``*.travel.json``)."""
    return name.endswith((".schema.json", ".travel.json"))


def region_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a region id (``quzhou``) or a file path to the file."""
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix == ".json" or os.sep in text or "/" in text:
        return path
    candidate = regions_dir() / f"{text}.json"
    if not candidate.exists():
        raise UnknownRegion(text, known=list_regions(), where=str(regions_dir()))
    return candidate


def load_region(name_or_path: str | os.PathLike[str]) -> Region:
    """Read and validate a region file, by id or path."""
    path = region_path(name_or_path)
    return _load(path.resolve(), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=32)
def _load(path: Path, _mtime: int) -> Region:
    return parse_region(read_json(path), file=str(path))


def parse_region(raw: object, *, file: str = "<region>") -> Region:
    """Validate a decoded region document; errors name ``file`` and the place."""
    return validate_document(Region, raw, file=file)


def read_json(path: Path, *, error: type[RegionDataError] = RegionDataError) -> object:
    """Decode a JSON file; an unreadable or invalid file raises ``error`` naming the file and place."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise error(str(path), "", "no such file", rule_zh="文件不存在") from err
    except (OSError, UnicodeDecodeError) as err:
        raise error(str(path), "", f"cannot be read as UTF-8 text ({err})",
                    rule_zh=f"无法作为 UTF-8 文本读取（{err}）") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(str(path), f"line {err.lineno} column {err.colno}", f"invalid JSON: {err.msg}",
                    rule_zh=f"不是有效的 JSON（{err.msg}）", place_zh=f"第 {err.lineno} 行第 {err.colno} 列") from err


def validate_document(model: type[M], raw: object, *, file: str, error: type[RegionDataError] = RegionDataError) -> M:
    """Validate a decoded document against ``model``; the first problem raises ``error`` with its place."""
    if not isinstance(raw, dict):
        raise error(file, "top level", f"must be a JSON object, got {type(raw).__name__}",
                    rule_zh=f"须为 JSON 对象，收到的是 {type(raw).__name__}", place_zh="最外层")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        place = _describe_place(raw, first["loc"])
        rule, rule_zh = first["msg"], rule_zh_of(first)
        if "input" in first and first["type"] != "missing" and not isinstance(first["input"], dict | list):
            rule += f", got {first['input']!r}"
            rule_zh += f"，收到 {first['input']!r}"
        rule += _swap_hint(raw, first["loc"])
        rule_zh += _swap_hint(raw, first["loc"], lang="zh")
        more = len(err.errors()) - 1
        if more:
            rule += f" (and {more} more problem{'s' if more > 1 else ''})"
            rule_zh += f"（另有 {more} 个问题）"
        raise error(file, place, rule, rule_zh=rule_zh) from err


#: pydantic's error types in Chinese, with the figures of their context.
_RULES_ZH = {
    "missing": "缺少这一项（必填）", "extra_forbidden": "不是可用的字段（拼写有误？）",
    "greater_than": "须大于 {gt}", "greater_than_equal": "须不小于 {ge}", "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}", "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符", "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "literal_error": "须为以下之一：{expected}", "enum": "须为以下之一：{expected}",
    "string_pattern_mismatch": "格式不符（须符合 {pattern}）", "string_type": "须为文本", "int_type": "须为整数",
    "int_parsing": "须为整数", "int_from_float": "须为整数", "float_type": "须为数字", "float_parsing": "须为数字",
    "finite_number": "须为有限的数字", "bool_type": "须为 true 或 false", "bool_parsing": "须为 true 或 false",
    "dict_type": "须为 JSON 对象", "model_type": "须为 JSON 对象", "list_type": "须为列表", "tuple_type": "须为列表",
    "date_type": "须为日期（如 2026-12-07）", "date_parsing": "须为日期（如 2026-12-07）",
    "date_from_datetime_parsing": "须为日期（如 2026-12-07）",
    "datetime_parsing": "须为日期时间（如 2026-12-07T09:00:00+08:00）",
    "datetime_type": "须为日期时间（如 2026-12-07T09:00:00+08:00）", "url_parsing": "须为网址", "url_type": "须为网址",
}


def rule_zh_of(error: Mapping[str, Any]) -> str:
    """A pydantic error in Chinese: its type's wording with its figures; a validator's own message (``value_error``)
    is kept inside, as the rule it states.

    >>> rule_zh_of({"type": "less_than_equal", "msg": "Input should be less than or equal to 90", "ctx": {"le": 90}})
    '须不大于 90'
    >>> rule_zh_of({"type": "value_error", "msg": "Value error, unknown specialty 'x'"})
    "不符合规则：unknown specialty 'x'"
    """
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(getattr(raised, "zh", None), str):  # a validator's own error worded in Chinese (a mednet error)
        return str(raised.zh)  # type: ignore[union-attr]
    wording = _RULES_ZH.get(str(error.get("type")))
    if wording is not None:
        try:
            return wording.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            pass
    message = str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"不符合规则：{message}"


def _describe_place(raw: dict, loc: tuple) -> str:
    """``institutions[3] (kh-huabu).lat`` from a pydantic location."""
    parts: list[str] = []
    node: object = raw
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            item = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label += f" ({item['id']})"
            parts.append(label)
            node = item
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "top level"


def _swap_hint(raw: dict, loc: tuple, *, lang: str = "en") -> str:
    if not loc or loc[-1] not in ("lat", "lon"):
        return ""
    node: object = raw
    for key in loc[:-1]:
        try:
            node = node[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return ""
    if isinstance(node, dict):
        lat, lon = node.get("lat"), node.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float) and abs(lon) <= 90 < abs(lat) <= 180:
            if lang == "zh":
                return f"；纬度和经度似乎填反了（lat={lon}、lon={lat} 才有效）"
            return f"; lat and lon look swapped (lat={lon}, lon={lat} would be valid)"
    return ""


def dump_region(region: Region) -> str:
    """The region as pretty JSON text (UTF-8 names kept readable)."""
    return json.dumps(region.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False, indent=1) + "\n"


def save_region(region: Region, path: str | os.PathLike[str]) -> Path:
    """Write a region atomically: a crash leaves the old file whole."""
    return write_atomic(path, dump_region(region))


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file through a temporary beside it, so that a crash leaves the old file whole; only a regular
    file is replaced (:func:`mednet.files.write_text_file`)."""
    write_text_file(path, text)
    return Path(path)


def region_json_schema() -> str:
    """The JSON Schema of region files, generated from :class:`Region`."""
    return json_schema(Region, SCHEMA_FILE)


def json_schema(model: type[BaseModel], file_name: str) -> str:
    """The JSON Schema of a document model, as committed beside the region files."""
    schema = model.model_json_schema()
    schema["$id"] = f"https://mednet.invalid/{file_name}"
    return json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

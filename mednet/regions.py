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
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

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
        raise error(str(path), "", "no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise error(str(path), "", f"cannot be read as UTF-8 text ({err})") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(str(path), f"line {err.lineno} column {err.colno}", f"invalid JSON: {err.msg}") from err


def validate_document(model: type[M], raw: object, *, file: str, error: type[RegionDataError] = RegionDataError) -> M:
    """Validate a decoded document against ``model``; the first problem raises ``error`` with its place."""
    if not isinstance(raw, dict):
        raise error(file, "top level", f"must be a JSON object, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        place = _describe_place(raw, first["loc"])
        rule = first["msg"]
        if "input" in first and first["type"] != "missing" and not isinstance(first["input"], dict | list):
            rule += f", got {first['input']!r}"
        rule += _swap_hint(raw, first["loc"])
        more = len(err.errors()) - 1
        if more:
            rule += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise error(file, place, rule) from err


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


def _swap_hint(raw: dict, loc: tuple) -> str:
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

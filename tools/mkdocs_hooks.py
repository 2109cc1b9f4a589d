"""Build hooks of the manual (``mkdocs.yml`` names this file under ``hooks``).

When the site is built they add the pages made from the code — the CLI and HTTP reference
(``tools/docs_reference.py``) and the changelog (``CHANGELOG.md``) — and the screenshots the tutorials show.
The screenshots are written by the browser tests into ``artifacts/docs/`` (never committed); where a test has not
run yet, the page shows a grey placeholder (the picture's alt text says what belongs there).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
#: Where the browser tests write the pictures the manual shows (gitignored).
SHOTS = ROOT / "artifacts" / "docs"
#: Where the pages find them in the site.
SHOTS_URI = "img/shots"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs_reference  # noqa: E402  (a sibling script: this file is loaded by path, not as a package)


def screenshot_names() -> dict[str, str]:
    """Each screenshot a page shows (file name → the test that writes it), from the pages' own text."""
    import re

    names: dict[str, str] = {}
    for page in (ROOT / "docs").rglob("*.md"):
        for name in re.findall(rf"{SHOTS_URI}/([\w.-]+\.png)", page.read_text(encoding="utf-8")):
            names[name] = page.name
    return names


def placeholder_png(width: int = 480, height: int = 60) -> bytes:
    """A plain grey PNG, shown where a screenshot has not been taken yet (its alt text says what belongs there).

    >>> placeholder_png()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xe0" * width for _ in range(height))  # filter 0, grey level 224
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


#: The nav section that takes the pages a nav entry does not name yet (the guides of new features).
NEW_PAGES_SECTION = "操作指南 How-to guides"


def _named(nav: Any) -> Iterator[str]:
    """Every page path a nav names."""
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _named(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _named(value)


def unlisted_pages(nav: Any, docs_dir: Path) -> list[str]:
    """The pages of ``docs_dir`` the nav does not name, sorted.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("index.md", "planning.md"):
    ...     _ = (folder / name).write_text("# x")
    >>> unlisted_pages([{"Home": "index.md"}], folder)
    ['planning.md']
    """
    named = set(_named(nav))
    return sorted(str(page.relative_to(docs_dir)) for page in docs_dir.rglob("*.md")
                  if str(page.relative_to(docs_dir)) not in named)


def on_config(config: Any) -> Any:
    """A page added to docs/ without a nav entry is listed under the how-to guides (not left out of the site)."""
    pages = unlisted_pages(config["nav"], Path(config["docs_dir"]))
    if pages:
        section = next(item for item in config["nav"] if isinstance(item, dict) and NEW_PAGES_SECTION in item)
        section[NEW_PAGES_SECTION].extend(pages)
    return config


def on_files(files: Files, config: Any) -> Files:
    from mednet.cli import build_parser
    from service.app import create_app

    files.append(File.generated(config, "reference/cli.md", content=docs_reference.cli_markdown(build_parser())))
    app = create_app()
    files.append(File.generated(config, "reference/http.md",
                                content=docs_reference.http_markdown(app.openapi(), app.routes)))
    files.append(File.generated(config, "changelog.md", content=(ROOT / "CHANGELOG.md").read_text(encoding="utf-8")))
    for name in screenshot_names():
        shot = SHOTS / name
        if shot.is_file():
            files.append(File.generated(config, f"{SHOTS_URI}/{name}", abs_src_path=str(shot)))
        else:
            files.append(File.generated(config, f"{SHOTS_URI}/{name}", content=placeholder_png()))
    return files

"""The manual (mkdocs.yml, docs/) builds with ``--strict``, loads nothing from outside, and its reference has an
entry for every command and every HTTP operation.

The site is built once per test session (about half a minute on a busy machine), offline, into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("mkdocs", reason="the manual's tools (the `docs` extra)")
pytest.importorskip("material", reason="the Material theme (the `docs` extra)")
sys.path.insert(0, str(ROOT / "tools"))
import docs_reference  # noqa: E402  (tools/ is a folder of scripts, not a package)

sys.path.remove(str(ROOT / "tools"))


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> tuple[Path, str]:
    """The built site's folder and the build's log."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    return out, log


def test_the_manual_builds_strict_without_warnings(site):
    out, log = site
    assert not [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))], log
    for page in ("index.html", "tutorials/desk/index.html", "reference/cli/index.html", "reference/http/index.html",
                 "reference/python/index.html", "performance/index.html", "changelog/index.html"):
        assert (out / page).is_file(), page
    # the Chinese pages' words are segmented for the search (jieba), not one token per sentence
    index = json.loads((out / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert any("\u200b转诊\u200b" in doc["text"] for doc in index["docs"])


class _Resources(HTMLParser):
    """Every address a page makes the browser load: scripts, styles, icons, images, frames, media."""

    LOADS: ClassVar[dict[str, str]] = {"script": "src", "img": "src", "iframe": "src", "source": "src",
                                       "video": "src", "audio": "src", "embed": "src", "object": "data"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")
        elif tag in self.LOADS and values.get(self.LOADS[tag]):
            self.urls.append(values[self.LOADS[tag]] or "")
        if values.get("style"):
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", values["style"] or "")


def test_no_page_loads_anything_from_outside(site):
    out, _ = site
    outside = []
    for page in out.rglob("*.html"):
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        outside += [f"{page.relative_to(out)}: {url}" for url in parser.urls if re.match(r"(https?:)?//", url)]
    for sheet in out.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        outside += [f"{sheet.relative_to(out)}: {url}" for url in
                    re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", text)]
    assert not outside, outside
    assert list(out.rglob("*.html")), "no page built"


def _commands(parser: argparse.ArgumentParser, words: list[str]) -> list[list[str]]:
    found = [words]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, [*words, name])
    return found


def _ids(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def test_every_cli_command_has_a_reference_entry(site):
    from mednet.cli import build_parser

    commands = _commands(build_parser(), ["mednet"])
    assert len(commands) > 20  # every subcommand and their own subcommands (keys create, db upgrade …)
    ids = _ids(site[0] / "reference" / "cli" / "index.html")
    missing = [" ".join(words) for words in commands if docs_reference.cli_anchor(words) not in ids]
    assert not missing, missing


def test_every_http_operation_has_a_reference_entry(site):
    from service.app import create_app

    document = create_app().openapi()
    ids = _ids(site[0] / "reference" / "http" / "index.html")
    operations = [(method, path) for path, item in document["paths"].items() for method in item
                  if method in docs_reference.HTTP_METHODS]
    assert len(operations) > 20
    missing = [f"{m.upper()} {p}" for m, p in operations if docs_reference.http_anchor(m, p) not in ids]
    assert not missing, missing
    for schema in document["components"]["schemas"]:
        assert f"schema-{schema.lower()}" in ids, schema


def test_every_address_the_app_answers_has_a_reference_entry(site):
    """The desk pages and the documentation's own addresses too, which the OpenAPI document leaves out."""
    from service.app import create_app

    app = create_app()
    ids = _ids(site[0] / "reference" / "http" / "index.html")
    answered = [(method, path) for path, methods, _ in docs_reference.app_routes(app.routes) for method in methods]
    assert ("GET", "/desk/{region}/worklist") in answered and ("POST", "/regions/{region}/routes") in answered
    missing = [f"{m} {p}" for m, p in answered if docs_reference.http_anchor(m, p) not in ids]
    assert not missing, missing


def test_the_python_reference_documents_the_front_door(site):
    ids = _ids(site[0] / "reference" / "python" / "index.html")
    for name in ("mednet.load_region", "mednet.build_network", "mednet.routing.Router", "mednet.routing.Router.route",
                 "mednet.planning.find_coverage_gaps", "mednet.travel.load_travel"):
        assert name in ids, name


def test_every_tutorial_screenshot_is_taken_by_a_test():
    """A picture a page shows comes from a test that writes it (never a committed file)."""
    shown = set()
    for page in (ROOT / "docs").rglob("*.md"):
        shown |= set(re.findall(r"img/shots/([\w.-]+)\.png", page.read_text(encoding="utf-8")))
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    assert shown
    assert not [name for name in shown if f'"{name}"' not in tests]


def test_a_page_without_a_nav_entry_is_listed_not_left_out(tmp_path):
    """A guide added to docs/ before the nav names it still reaches the site (under the how-to guides)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_hooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for name in ("index.md", "guides/one.md", "planning.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("# x", encoding="utf-8")
    nav = [{"Home": "index.md"}, {mkdocs_hooks.NEW_PAGES_SECTION: [{"One": "guides/one.md"}]}]
    config = mkdocs_hooks.on_config({"nav": nav, "docs_dir": str(tmp_path)})
    assert config["nav"][1][mkdocs_hooks.NEW_PAGES_SECTION] == [{"One": "guides/one.md"}, "planning.md"]

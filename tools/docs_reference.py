"""The manual's generated reference pages: the CLI from its argparse parser, the HTTP API from the OpenAPI document.

Used by the site's build hook (``tools/mkdocs_hooks.py``) and by ``tests/test_docs.py``, which checks that every
command and every HTTP operation has its entry. Each entry carries an anchor made by :func:`cli_anchor` or
:func:`http_anchor`, so a page can link to it and the test can find it in the built site.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def cli_anchor(words: list[str]) -> str:
    """The anchor of a command's entry.

    >>> cli_anchor(["mednet", "keys", "create"])
    'cli-mednet-keys-create'
    """
    return "cli-" + "-".join(re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in words)


def http_anchor(method: str, path: str) -> str:
    """The anchor of an HTTP operation's entry.

    >>> http_anchor("post", "/regions/{region}/routes")
    'http-post-regions-region-routes'
    >>> http_anchor("get", "/desk"), http_anchor("get", "/desk/")
    ('http-get-desk', 'http-get-desk-slash')
    """
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return f"http-{method.lower()}-{slug}" + ("-slash" if path.endswith("/") and path != "/" else "")


def cli_commands(parser: argparse.ArgumentParser, words: list[str] | None = None
                 ) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """Every command of ``parser``, depth first: its words (``["mednet", "keys", "create"]``) and its parser."""
    words = words or [parser.prog.split()[0]]
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from cli_commands(sub, [*words, name])


def _text(value: str) -> str:
    """A help text as one table cell."""
    return " ".join(value.split()).replace("|", "\\|")


def cli_markdown(parser: argparse.ArgumentParser) -> str:
    """The CLI reference page: a table of commands, then each command's help as ``--help`` prints it."""
    commands = list(cli_commands(parser))
    lines = ["# Command line reference", "",
             "Generated from the `mednet` command's own argument parser when the manual is built: what "
             "`mednet COMMAND --help` prints. 中文说明见各教程；命令和选项本身以英文给出。", "",
             "| command | what it does |", "|---|---|"]
    helps = {}
    for action in (a for _, p in commands for a in p._actions if isinstance(a, argparse._SubParsersAction)):
        for choice in action._choices_actions:
            helps[choice.dest] = choice.help or ""
    for words, _ in commands[1:]:
        lines.append(f"| [`{' '.join(words)}`](#{cli_anchor(words)}) | {_text(helps.get(words[-1], '') or '')} |")
    for words, sub in commands:
        level = "#" * min(len(words) + 1, 4)
        lines += ["", f"{level} `{' '.join(words)}` {{#{cli_anchor(words)}}}", "", "```text",
                  sub.format_help().rstrip(), "```"]
    return "\n".join(lines) + "\n"


def _schema_name(schema: dict[str, Any]) -> str:
    """A schema as a short type: a component's name, ``array of X``, a JSON type, or the alternatives."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(_schema_name(s) for s in schema[key])
    if schema.get("type") == "array":
        return "array of " + _schema_name(schema.get("items", {}))
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    return str(schema.get("type", "any"))


def http_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of an OpenAPI document: (method, path, operation), in the document's order."""
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def app_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, list[str], Any]]:
    """Every route an app answers, routers included in routers followed: (path, methods, route)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from app_routes(inner.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path"):
            methods = getattr(route, "methods", None) or ("GET",)
            yield prefix + route.path, sorted(m for m in methods if m != "HEAD"), route


def outside_document(document: dict[str, Any], routes: list[Any]) -> list[tuple[str, str, str]]:
    """The addresses an app answers that its OpenAPI document leaves out (the desk pages, the documentation
    itself): (method, path, the first line of what its handler says)."""
    found = []
    for path, methods, route in app_routes(routes):
        for method in methods:
            if method.lower() not in document["paths"].get(path, {}):
                doc = (getattr(getattr(route, "endpoint", None), "__doc__", None) or "").strip()
                found.append((method.lower(), path, doc.split("\n\n")[0]))
    return found


def http_markdown(document: dict[str, Any], routes: list[Any] | None = None) -> str:
    """The HTTP reference page: every operation (parameters, body, answers), every schema's fields, then the
    addresses outside the document (``routes``: the app's, when given)."""
    lines = [f"# HTTP API reference ({document['info']['title']} {document['info']['version']})", "",
             "Generated from the service's OpenAPI document (`/openapi.json`) when the manual is built. The running "
             "service also shows it interactively at `/docs` and `/redoc`, loaded from the service itself.", "",
             "| method | path | summary |", "|---|---|---|"]
    operations = list(http_operations(document))
    for method, path, op in operations:
        link = f"[`{path}`](#{http_anchor(method, path)})"
        lines.append(f"| {method.upper()} | {link} | {_text(op.get('summary', ''))} |")
    for method, path, op in operations:
        lines += ["", f"## {method.upper()} `{path}` {{#{http_anchor(method, path)}}}", ""]
        if op.get("summary"):
            lines += [f"**{op['summary']}**", ""]
        if op.get("description"):
            lines += [op["description"].strip(), ""]
        params = op.get("parameters", [])
        if params:
            lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
            for p in params:
                lines.append(f"| `{p['name']}` | {p['in']} | {_schema_name(p.get('schema', {}))} | "
                             f"{'yes' if p.get('required') else 'no'} | {_text(p.get('description', ''))} |")
            lines.append("")
        body = op.get("requestBody", {}).get("content", {})
        for media, content in body.items():
            lines += [f"Request body (`{media}`): {_schema_name(content.get('schema', {}))}", ""]
        lines += ["| answer | description |", "|---|---|"]
        for status, answer in op.get("responses", {}).items():
            content = answer.get("content", {})
            media = ", ".join(f"`{m}`: {_schema_name(c['schema'])}" if c.get("schema") else f"`{m}`"
                              for m, c in content.items())
            lines.append(f"| {status} | {_text(answer.get('description', ''))}{' (' + media + ')' if media else ''} |")
    outside = outside_document(document, routes or [])
    if outside:
        lines += ["", "## Pages and addresses outside the OpenAPI document", "",
                  "The desk pages (`/desk/…`, HTML in Chinese, see the [desk page](../guides/desk-page.md)) and the "
                  "documentation's own addresses. They are for browsers, not for API clients.", "",
                  "| method | path | what it does |", "|---|---|---|"]
        for method, path, doc in outside:
            anchor = f'<span id="{http_anchor(method, path)}"></span>'
            lines.append(f"| {method.upper()} | {anchor}`{path}` | {_text(doc)} |")
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        lines += ["", "## Schemas"]
    for name, schema in schemas.items():
        lines += ["", f"### {name} {{#schema-{name.lower()}}}", ""]
        if schema.get("description"):
            lines += [_text(schema["description"]), ""]
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", ()))
            lines += ["| field | type | required | description |", "|---|---|---|---|"]
            for field, prop in props.items():
                lines.append(f"| `{field}` | {_schema_name(prop)} | {'yes' if field in required else 'no'} | "
                             f"{_text(prop.get('description', prop.get('title', '')))} |")
        elif "enum" in schema:
            lines.append("One of " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".")
    return "\n".join(lines) + "\n"

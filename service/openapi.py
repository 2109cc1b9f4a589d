"""The finished OpenAPI document: problem bodies, the rules of text parameters, and query parameters that
depend on each other.

OpenAPI describes each query parameter alone, so a rule between two of them
(``within_km`` only with ``near``) cannot be stated there. An operation
that has one declares ``openapi_extra={QUERY_OBJECTS: {name: {"members":
[...], <JSON Schema rules>}}}``; :func:`finish_openapi` replaces those
members by one form-exploded object parameter whose schema holds the rule
(the query string is the same: ``?near=29.0,118.4&within_km=10``).

    >>> op = {QUERY_OBJECTS: {"place": {"members": ["a", "b"], "dependentRequired": {"b": ["a"]}}},
    ...       "parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "number"}}
    ...                      for n in "abc"]}
    >>> merge_query_objects(op)
    >>> [p["name"] for p in op["parameters"]], op["parameters"][1]["schema"]["dependentRequired"]
    (['c', 'place'], {'b': ['a']})
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mednet.inputs import HEADER_PATTERN, TEXT_PATTERN, state_text_rule
from service.errors import ProblemDetails, document_problems
from service.limits import DATE_PATTERN, ETAG_PATTERN, WHEN_PATTERN

QUERY_OBJECTS = "x-mednet-query-objects"


def merge_query_objects(operation: dict[str, Any]) -> None:
    """Replace the member parameters named under :data:`QUERY_OBJECTS` by one exploded object each."""
    for name, rules in operation.pop(QUERY_OBJECTS, {}).items():
        members = rules["members"]
        found = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] in members}
        operation["parameters"] = [p for p in operation.get("parameters", []) if p["name"] not in found]
        schema = {
            "type": "object", "additionalProperties": False,
            "properties": {n: {**_not_null(found[n]["schema"]), **({"description": found[n]["description"]}
                                                                  if "description" in found[n] else {})}
                           for n in members},
            "required": [n for n in members if found[n].get("required")],
            **{k: v for k, v in rules.items() if k != "members"},
        }
        operation["parameters"].append({"name": name, "in": "query", "style": "form", "explode": True,
                                        "required": False, "schema": schema})


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter's schema without its ``null`` branch (a query string has no null: it is left out).

    >>> _not_null({"anyOf": [{"type": "number"}, {"type": "null"}], "title": "X"})
    {'type': 'number', 'title': 'X'}
    """
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if len(branches) != 1:
        return schema
    return {**branches[0], **{k: v for k, v in schema.items() if k != "anyOf"}}


#: Parameters whose text has a shape of its own: (where, name) → the pattern.
SHAPED = {("header", "If-Match"): ETAG_PATTERN, ("query", "from"): DATE_PATTERN, ("query", "to"): DATE_PATTERN}


#: Body fields of the ledger's models whose text has a shape the library checks: (model, field) → the pattern.
SHAPED_FIELDS = {("NewReferral", "when"): WHEN_PATTERN}


def state_parameter_rules(operation: dict[str, Any]) -> None:
    """Every text parameter states what the service takes: its shape (``If-Match``, dates), else no control
    characters (tab allowed in a header), as the guard checks them (:mod:`mednet.inputs`).

    >>> op = {"parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}},
    ...                      {"name": "q", "in": "query", "schema": {"type": "string"}}]}
    >>> state_parameter_rules(op); [p["schema"]["pattern"] == ETAG_PATTERN for p in op["parameters"]]
    [True, False]
    """
    for parameter in operation.get("parameters", ()):
        schema = parameter.get("schema", {})
        shaped = SHAPED.get((parameter["in"], parameter["name"]))
        if shaped is not None:
            for branch in (schema, *schema.get("anyOf", ())):
                if branch.get("type") == "string":
                    branch["pattern"] = shaped
        state_text_rule(schema, HEADER_PATTERN if parameter["in"] == "header" else TEXT_PATTERN)


def finish_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the finished document (built once)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = document_problems(build())
            schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["ProblemDetails"] = schema
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    merge_query_objects(operation)
                    state_parameter_rules(operation)
            for (model, name), pattern in SHAPED_FIELDS.items():
                prop = components.get(model, {}).get("properties", {}).get(name, {})
                for branch in (prop, *prop.get("anyOf", ())):
                    if branch.get("type") == "string":
                        branch["pattern"] = pattern
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""The OpenAPI document as a client reads it: valid JSON with one entry per status and every reference resolved."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}"
    return dict(pairs)


def test_the_served_document_has_one_entry_per_status_and_resolves_every_reference():
    with TestClient(create_app()) as client:
        text = client.get("/openapi.json").text
    document = json.loads(text, object_pairs_hook=_no_duplicates)
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document refers to its schemas"
    missing = sorted(r for r in refs if r.removeprefix("#/components/schemas/") not in schemas)
    assert missing == []


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []

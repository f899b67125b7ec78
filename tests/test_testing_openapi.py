"""The OpenAPI checker of the test kit, on small documents written here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.testing.openapi import OpenAPI


def document(tmp_path: Path, version: str, schemas: dict[str, Any]) -> OpenAPI:
    path = tmp_path / f"spec-{version}.json"
    path.write_text(json.dumps({"openapi": version, "components": {"schemas": schemas}}))
    return OpenAPI(path)


AMOUNT_30 = {
    "type": "object",
    "required": ["value"],
    # draft 4 form, as OpenAPI 3.0 schema objects write it
    "properties": {"value": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}},
}
AMOUNT_31 = {
    "type": "object",
    "required": ["value"],
    # JSON Schema 2020-12 form, as OpenAPI 3.1 writes it
    "properties": {"value": {"type": "integer", "exclusiveMinimum": 0}},
}


@pytest.mark.parametrize(("version", "schema"), [("3.0.3", AMOUNT_30), ("3.1.0", AMOUNT_31)])
def test_the_dialect_follows_the_document(tmp_path: Path, version: str, schema: Any) -> None:
    spec = document(tmp_path, version, {"Amount": schema})
    assert spec.errors("Amount", {"value": 5}) == []
    assert spec.errors("Amount", {"value": 0}) == [
        "value: 0 is less than or equal to the minimum of 0"
    ]
    assert spec.errors("Amount", {}) == ["<root>: 'value' is a required property"]


def test_other_versions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not 3\.0 or 3\.1"):
        document(tmp_path, "2.0", {})


def test_strict_finds_undeclared_keys_through_refs_and_discriminators(tmp_path: Path) -> None:
    spec = document(
        tmp_path,
        "3.0.1",
        {
            "Source": {
                "type": "object",
                "properties": {"type": {"type": "string"}},
                "discriminator": {
                    "propertyName": "type",
                    "mapping": {"card": "#/components/schemas/Card"},
                },
            },
            "Card": {
                "type": "object",
                "required": ["token"],
                "properties": {"type": {"type": "string"}, "token": {"type": "string"}},
            },
            "Payment": {
                "type": "object",
                "properties": {
                    "source": {"$ref": "#/components/schemas/Source"},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Card"}},
                    "metadata": {"type": "object", "additionalProperties": True},
                },
            },
        },
    )
    body = {
        "source": {"type": "card", "token": "tok_1"},
        "items": [{"type": "card", "token": "tok_2", "tokn": "x"}],
        "metadata": {"anything": "goes"},
    }
    assert spec.errors("Payment", body) == []
    assert spec.errors("Payment", body, strict=True) == ["<root>/items/0/tokn: not declared"]
    assert spec.errors("Payment", {"source": {"type": "card"}}, strict=True) == [
        "<root>/source: 'token' is a required property"
    ]
    with pytest.raises(AssertionError, match="not a valid Payment: <root>/items/0/tokn"):
        spec.check("Payment", body, strict=True)

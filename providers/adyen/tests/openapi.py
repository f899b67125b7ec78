"""Adyen's OpenAPI documents (byte-identical copies in `specs/`, see SOURCES.md) as JSON
Schema validators: Checkout API v71 for requests and answers, Webhooks v1 for notifications.
OpenAPI 3.1 schemas are JSON Schema 2020-12; `$ref`s resolve inside each document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).parent / "specs"
CHECKOUT = "urn:adyen:checkout-v71"
WEBHOOKS = "urn:adyen:webhooks-v1"


@cache
def document(name: str) -> dict[str, Any]:
    """A spec file, parsed."""
    data: dict[str, Any] = json.loads((SPECS / name).read_bytes())
    return data


@cache
def _registry() -> Registry:
    return Registry().with_resources(
        [
            (CHECKOUT, Resource.from_contents(document("adyen-checkout-v71.json"), DRAFT202012)),
            (WEBHOOKS, Resource.from_contents(document("adyen-webhooks-v1.json"), DRAFT202012)),
        ]
    )


def problems(uri: str, pointer: str, instance: Any) -> list[str]:
    """Validation errors of `instance` against the schema at `uri#pointer`."""
    validator = Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=_registry())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in validator.iter_errors(instance)
    ]


def checkout(schema: str, instance: Any) -> list[str]:
    """Errors against `components/schemas/<schema>` of the Checkout API."""
    return problems(CHECKOUT, f"/components/schemas/{schema}", instance)


# request path suffix -> (request schema, success response schema)
OPERATIONS = {
    "/payments": ("PaymentRequest", "PaymentResponse"),
    "/captures": ("PaymentCaptureRequest", "PaymentCaptureResponse"),
    "/cancels": ("PaymentCancelRequest", "PaymentCancelResponse"),
    "/refunds": ("PaymentRefundRequest", "PaymentRefundResponse"),
}


def operation(path: str) -> tuple[str, str]:
    """The request and response schema names of a Checkout path."""
    for suffix, schemas in OPERATIONS.items():
        if path.endswith(suffix):
            return schemas
    raise KeyError(path)


def webhook(body: dict[str, Any]) -> list[str]:
    """Errors of a notification body against its event code's webhook schema (every item's
    code must use the same schema, as Adyen sends them)."""
    found: list[str] = []
    for wrapper in body["notificationItems"]:
        code = wrapper["NotificationRequestItem"]["eventCode"]
        operation_ = document("adyen-webhooks-v1.json")["webhooks"][f"/{code}"]["post"]
        ref = operation_["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        single = {**body, "notificationItems": [wrapper]}
        found += problems(WEBHOOKS, ref.removeprefix("#"), single)
    return found

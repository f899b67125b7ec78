"""Every request body the Adyen adapter builds in these tests is validated against Adyen's
OpenAPI document before it is "sent"."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from gatewayhub_adyen.provider import AdyenProvider

from .harness import CHECKOUT_SPEC, operation

_original_post = AdyenProvider._post


async def _validated_post(
    self: AdyenProvider, path: str, body: BaseModel, key: str
) -> httpx.Response:
    request_schema, _ = operation(path)
    found = CHECKOUT_SPEC.errors(request_schema, body.model_dump(exclude_none=True))
    assert found == [], f"{request_schema} does not fit Adyen's spec: {found}"
    return await _original_post(self, path, body, key)


@pytest.fixture(autouse=True)
def _requests_fit_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AdyenProvider, "_post", _validated_post)

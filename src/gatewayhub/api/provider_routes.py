"""Provider accounts: their health, and where a payment would be routed among them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import json_object
from gatewayhub.api.context import Api
from gatewayhub.api.operations import Answer, claimed
from gatewayhub.api.problems import json_response, validation

_PREVIEW_FIELDS = frozenset(
    {"amount", "currency", "payment_method", "capture", "customer_country", "provider"}
)


async def list_providers(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/providers"""
    data = []
    for name, account in api.hub.accounts.items():
        caps = account.adapter.capabilities
        data.append(
            {
                **api.hub.health.snapshot(name),
                "type": api.hub.config.providers[name].type,
                "currencies": sorted(caps.currencies),
                "methods": sorted(m.value for m in caps.methods),
            }
        )
    return json_response(200, {"data": data})


async def preview_route(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/route-preview"""
    data = await json_object(request, api.service.max_body_bytes, required=True)
    extra = sorted(set(data) - _PREVIEW_FIELDS)
    if extra:
        raise validation([{"field": f, "message": "Extra inputs are not permitted"} for f in extra])

    async def run() -> Answer:
        decision = api.hub.explain_route(**data)
        fees = {name: account.profile.fees for name, account in api.hub.accounts.items()}
        body: dict[str, Any] = decision.to_dict()
        body["explanation"] = decision.explain(fees)
        return 200, body

    return await claimed(api, request, who, "route-preview", data, run)

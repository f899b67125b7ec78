"""/v1/webhook-endpoints: merchants register, inspect and redeliver their outbound webhooks.

The routes are a thin layer over `hub.endpoints` (gatewayhub.outbound.endpoints), which
checks URLs, seals secrets and scopes every id to the calling merchant (another merchant's
ids are `NotFound`, so 404). `allow_private` is never read from a request: private and
loopback URLs are the operator's choice (`[webhooks] allow_private_webhook_urls`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import json_object, path_id, validated
from gatewayhub.api.context import Api
from gatewayhub.api.idempotency import HEADER, REPLAYED, KeyUse, read_key
from gatewayhub.api.operations import Answer, claimed
from gatewayhub.api.problems import Problem, json_response
from gatewayhub.errors import GatewayError
from gatewayhub.outbound import DeliveryStatus, DeliveryView, EndpointView
from gatewayhub.outbound.endpoints import (
    DEFAULT_PREVIOUS_SECRET_VALIDITY,
    MAX_PREVIOUS_SECRET_VALIDITY,
)

_ENDPOINT = TypeAdapter(EndpointView)
_DELIVERY = TypeAdapter(DeliveryView)


class EndpointBody(BaseModel):
    """The body of POST /v1/webhook-endpoints (unknown members, `allow_private` among
    them, are refused)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[str] | None = None
    description: str | None = Field(default=None, max_length=255)


class DisableBody(BaseModel):
    """The optional body of POST /v1/webhook-endpoints/{endpoint_id}/disable."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="disabled by the merchant", min_length=1, max_length=255)


class RotateBody(BaseModel):
    """The optional body of POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret."""

    model_config = ConfigDict(extra="forbid")

    previous_secret_expires_in: int = Field(
        default=int(DEFAULT_PREVIOUS_SECRET_VALIDITY.total_seconds()),
        ge=0,
        le=int(MAX_PREVIOUS_SECRET_VALIDITY.total_seconds()),
    )


class DeliveryQuery(BaseModel):
    """The query of GET /v1/webhook-endpoints/{endpoint_id}/deliveries."""

    model_config = ConfigDict(extra="ignore")

    status: DeliveryStatus | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,40}$")


def endpoint_json(view: EndpointView) -> dict[str, Any]:
    """An endpoint as the API shows it (the merchant is the caller; the secret never)."""
    body: dict[str, Any] = _ENDPOINT.dump_python(view, mode="json")
    del body["merchant_id"]
    return body


def delivery_json(view: DeliveryView) -> dict[str, Any]:
    """A delivery as the API shows it."""
    body: dict[str, Any] = _DELIVERY.dump_python(view, mode="json")
    return body


async def create_endpoint(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/webhook-endpoints"""
    data = await json_object(request, api.service.max_body_bytes, required=True)
    command = validated(EndpointBody, data)

    async def register() -> tuple[dict[str, Any], str]:
        registered = await api.hub.endpoints.register(
            who.merchant_id, command.url, command.events, description=command.description
        )
        return endpoint_json(registered.endpoint), registered.secret

    payload = command.model_dump(mode="json")
    return await _showing_secret(api, request, who, "webhook_endpoint", payload, 201, register)


async def rotate_secret(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret"""
    endpoint_id = path_id(request, "endpoint_id")
    data = await json_object(request, api.service.max_body_bytes, required=False)
    command = validated(RotateBody, data)

    async def rotate() -> tuple[dict[str, Any], str]:
        rotated = await api.hub.endpoints.rotate_secret(
            who.merchant_id, endpoint_id, timedelta(seconds=command.previous_secret_expires_in)
        )
        return endpoint_json(rotated.endpoint), rotated.secret

    payload = command.model_dump(mode="json")
    return await _showing_secret(
        api, request, who, f"rotate_secret:{endpoint_id}", payload, 200, rotate
    )


async def _showing_secret(
    api: Api,
    request: Request,
    who: Principal,
    operation: str,
    payload: dict[str, Any],
    status: int,
    run: Callable[[], Awaitable[tuple[dict[str, Any], str]]],
) -> Response:
    """An answer that shows the endpoint's signing secret, under the request's key.

    The secret is not part of what the idempotency key stores (the database keeps it sealed
    only): a replay opens the endpoint's current secret again."""
    key = read_key(request.headers.get(HEADER))
    if key is None:
        body, secret = await run()
        return json_response(status, {**body, "secret": secret})
    use = KeyUse(who.merchant_id, key, operation, payload)
    stored = await api.keys.claim(use, api.hub.clock.now())
    if stored is not None:
        if stored.status_code != status:
            return stored
        first = json.loads(bytes(stored.body))
        first["secret"] = await api.hub.endpoints.signing_secret(who.merchant_id, first["id"])
        return json_response(status, first, {REPLAYED: "true"})
    try:
        body, secret = await run()
    except (GatewayError, Problem):
        await api.keys.release(use)
        raise
    await api.keys.complete(use, status, body, api.hub.clock.now())
    return json_response(status, {**body, "secret": secret})


async def list_endpoints(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/webhook-endpoints"""
    views = await api.hub.endpoints.list(who.merchant_id)
    return json_response(200, {"data": [endpoint_json(v) for v in views]})


async def get_endpoint(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/webhook-endpoints/{endpoint_id}"""
    view = await api.hub.endpoints.get(who.merchant_id, path_id(request, "endpoint_id"))
    return json_response(200, endpoint_json(view))


async def delete_endpoint(api: Api, request: Request, who: Principal) -> Response:
    """DELETE /v1/webhook-endpoints/{endpoint_id}"""
    await api.hub.endpoints.delete(who.merchant_id, path_id(request, "endpoint_id"))
    return Response(status_code=204)


async def disable_endpoint(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/webhook-endpoints/{endpoint_id}/disable"""
    endpoint_id = path_id(request, "endpoint_id")
    data = await json_object(request, api.service.max_body_bytes, required=False)
    command = validated(DisableBody, data)

    async def run() -> Answer:
        view = await api.hub.endpoints.disable(who.merchant_id, endpoint_id, command.reason)
        return 200, endpoint_json(view)

    payload = command.model_dump(mode="json")
    return await claimed(api, request, who, f"disable:{endpoint_id}", payload, run)


async def enable_endpoint(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/webhook-endpoints/{endpoint_id}/enable"""
    endpoint_id = path_id(request, "endpoint_id")

    async def run() -> Answer:
        return 200, endpoint_json(await api.hub.endpoints.enable(who.merchant_id, endpoint_id))

    return await claimed(api, request, who, f"enable:{endpoint_id}", {}, run)


async def list_deliveries(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/webhook-endpoints/{endpoint_id}/deliveries"""
    endpoint_id = path_id(request, "endpoint_id")
    query = validated(DeliveryQuery, dict(request.query_params))
    page = await api.hub.endpoints.deliveries(
        who.merchant_id, endpoint_id, status=query.status, limit=query.limit, before=query.cursor
    )
    return json_response(
        200,
        {
            "data": [delivery_json(d) for d in page.items],
            "has_more": page.next_cursor is not None,
            "next_cursor": page.next_cursor,
        },
    )


async def redeliver(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/webhook-deliveries/{delivery_id}/redeliver"""
    delivery_id = path_id(request, "delivery_id")

    async def run() -> Answer:
        return 202, delivery_json(await api.hub.endpoints.redeliver(who.merchant_id, delivery_id))

    return await claimed(api, request, who, f"redeliver:{delivery_id}", {}, run)


async def redeliver_event(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/events/{event_id}/redeliver"""
    event_id = path_id(request, "event_id")

    async def run() -> Answer:
        views = await api.hub.endpoints.redeliver_event(who.merchant_id, event_id)
        return 202, {"data": [delivery_json(v) for v in views]}

    return await claimed(api, request, who, f"redeliver_event:{event_id}", {}, run)

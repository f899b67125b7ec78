"""Refunds: create one on a payment, read one, list a payment's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import json_object, path_id, validated
from gatewayhub.api.context import Api
from gatewayhub.api.operations import Answer, keyed
from gatewayhub.api.problems import Problem, json_response
from gatewayhub.models import RefundRequest
from gatewayhub.views import RefundView


async def create_refund(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/payments/{payment_id}/refunds"""
    payment_id = path_id(request, "payment_id")
    data = await json_object(request, api.service.max_body_bytes, required=False)
    command = validated(RefundRequest, data)

    async def run(key: str | None) -> Answer:
        _, refund = await api.hub.service.refund(who.merchant_id, payment_id, command, key)
        return 201, RefundView.of(refund).model_dump(mode="json")

    payload = command.model_dump(mode="json")
    return await keyed(api, request, who, f"refund:{payment_id}", payload, run)


async def list_payment_refunds(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/payments/{payment_id}/refunds"""
    view = await api.hub.get(path_id(request, "payment_id"), merchant_id=who.merchant_id)
    return json_response(200, {"data": [r.model_dump(mode="json") for r in view.refunds]})


async def get_refund(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/refunds/{refund_id}"""
    refund_id = path_id(request, "refund_id")
    refund = await api.hub.store.load_refund(refund_id, who.merchant_id)
    if refund is None:
        raise Problem(404, "not_found", f"no refund {refund_id!r}")
    return json_response(200, RefundView.of(refund).model_dump(mode="json"))

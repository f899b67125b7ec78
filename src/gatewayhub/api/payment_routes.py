"""/v1/payments: authorize, capture, void, read and list."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import json_object, path_id, validated
from gatewayhub.api.context import Api
from gatewayhub.api.operations import Answer, Rendering, keyed
from gatewayhub.api.problems import Problem, json_response
from gatewayhub.errors import DeclineCode
from gatewayhub.models import AuthorizeRequest, CaptureRequest, CurrencyCode, PaymentStatus
from gatewayhub.views import PaymentView


class ListQuery(BaseModel):
    """The query of GET /v1/payments."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,40}$")
    status: PaymentStatus | None = None
    provider: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    currency: CurrencyCode | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None


def payment_answer(view: PaymentView, status: int) -> Answer:
    """A payment, or the problem its failure is: declined (402) or unreachable (503)."""
    body = view.model_dump(mode="json")
    if view.status is not PaymentStatus.FAILED:
        return status, body
    code = view.decline.code if view.decline else DeclineCode.GENERIC_DECLINE.value
    if code == DeclineCode.PROVIDER_UNAVAILABLE.value:
        problem = Problem(
            503,
            "provider_unavailable",
            "no provider could be reached; nothing was charged",
            decline_code=code,
            payment=body,
        )
    else:
        message = view.decline.message if view.decline and view.decline.message else code
        problem = Problem(
            402, "payment_declined", f"declined: {message}", decline_code=code, payment=body
        )
    return problem.status, problem.document()


def _stored_by_core(status: int, body: Any) -> bool:
    """Whether the core stored this answer's payment with the key: it does in the
    transaction that takes the payment out of `pending`."""
    payment = body if status < 400 else body["payment"]
    return bool(payment["status"] != PaymentStatus.PENDING.value)


AUTHORIZE_RENDERING = Rendering(
    answer=lambda stored: payment_answer(PaymentView.model_validate_json(stored), 201),
    stored=_stored_by_core,
)


async def create_payment(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/payments"""
    data = await json_object(request, api.service.max_body_bytes, required=True)
    command = validated(AuthorizeRequest, data)

    async def run(key: str | None) -> Answer:
        view = await api.hub.authorize(command, idempotency_key=key, merchant_id=who.merchant_id)
        return payment_answer(view, 201)

    payload = command.model_dump(mode="json")
    return await keyed(api, request, who, "authorize", payload, run, AUTHORIZE_RENDERING)


async def capture_payment(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/payments/{payment_id}/capture"""
    payment_id = path_id(request, "payment_id")
    data = await json_object(request, api.service.max_body_bytes, required=False)
    command = validated(CaptureRequest, data)

    async def run(key: str | None) -> Answer:
        view = await api.hub.capture(
            payment_id,
            command.amount,
            final=command.final,
            idempotency_key=key,
            merchant_id=who.merchant_id,
        )
        return 200, view.model_dump(mode="json")

    payload = command.model_dump(mode="json")
    return await keyed(api, request, who, f"capture:{payment_id}", payload, run)


async def void_payment(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/payments/{payment_id}/void"""
    payment_id = path_id(request, "payment_id")

    async def run(key: str | None) -> Answer:
        view = await api.hub.void(payment_id, idempotency_key=key, merchant_id=who.merchant_id)
        return 200, view.model_dump(mode="json")

    return await keyed(api, request, who, f"void:{payment_id}", {}, run)


async def get_payment(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/payments/{payment_id}"""
    payment_id = path_id(request, "payment_id")
    view = await api.hub.get(payment_id, merchant_id=who.merchant_id)
    events = await api.hub.events(payment_id, merchant_id=who.merchant_id)
    body: dict[str, Any] = view.model_dump(mode="json")
    body["events"] = [e.model_dump(mode="json") for e in events]
    return json_response(200, body)


async def list_payments(api: Api, request: Request, who: Principal) -> Response:
    """GET /v1/payments"""
    query = validated(ListQuery, dict(request.query_params))
    page = await api.hub.list(
        limit=query.limit,
        before=query.cursor,
        status=query.status,
        provider=query.provider,
        currency=query.currency,
        created_from=query.created_from,
        created_to=query.created_to,
        merchant_id=who.merchant_id,
    )
    return json_response(
        200,
        {
            "data": [v.model_dump(mode="json") for v in page.items],
            "has_more": page.next_cursor is not None,
            "next_cursor": page.next_cursor,
        },
    )

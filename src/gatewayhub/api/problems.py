"""RFC 9457 problem documents: every error the API answers, with a stable `code`.

`Problem` is raised inside handlers; `problem_of` maps gatewayhub's own errors onto it. The
`type` of each problem is `urn:gatewayhub:problem:<code>`, stable across versions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from gatewayhub.errors import (
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    InvalidState,
    NoEligibleProvider,
    NotFound,
    ProviderError,
    RequestInProgress,
)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    "validation_error": "The request is not valid",
    "unsafe_url": "The gateway will not call this URL",
    "unauthorized": "Authentication is required",
    "forbidden": "The credentials do not allow this",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "invalid_state": "The payment's state does not allow this",
    "idempotency_conflict": "The idempotency key was used with a different request",
    "request_in_progress": "A request with this idempotency key is still running",
    "no_eligible_provider": "No provider account can take this payment",
    "payment_declined": "The payment was declined",
    "provider_unavailable": "No provider could be reached",
    "rate_limited": "Too many requests",
    "payload_too_large": "The body is too large",
    "unsupported_media_type": "The body must be JSON",
    "webhook_rejected": "The webhook could not be verified",
    "unavailable": "A dependency does not answer",
    "service_unavailable": "The service is overloaded",
    "not_implemented": "This gateway is installed without the feature",
    "internal_error": "Internal error",
}


class Problem(Exception):
    """An error answer. `extra` members are added to the document (RFC 9457 extensions)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def document(self) -> dict[str, Any]:
        """The JSON body."""
        return {
            "type": f"urn:gatewayhub:problem:{self.code}",
            "title": TITLES[self.code],
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }

    def response(self) -> Response:
        """As an HTTP response."""
        return json_response(self.status, self.document(), self.headers, PROBLEM_JSON)


def json_response(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A compact JSON response."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status, dict(headers or {}), media_type)


def validation(
    errors: list[dict[str, str]], status: int = 422, code: str = "validation_error"
) -> Problem:
    """A `validation_error` (or a more specific code of one) listing every field that failed."""
    detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:5])
    return Problem(status, code, detail, errors=errors)


def retry_after(seconds: float) -> dict[str, str]:
    """A Retry-After header (whole seconds, rounded up, at least one)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def problem_of(exc: GatewayError) -> Problem:
    """The answer to one of gatewayhub's errors."""
    if isinstance(exc, InvalidRequest):
        # Subclasses with a code of their own (`unsafe_url`) keep it; the rest are generic.
        return validation(exc.details, code=exc.code if exc.code in TITLES else "validation_error")
    if isinstance(exc, NotFound):
        return Problem(404, "not_found", str(exc))
    if isinstance(exc, InvalidState):
        return Problem(409, "invalid_state", str(exc))
    if isinstance(exc, IdempotencyConflict):
        return Problem(422, "idempotency_conflict", str(exc))
    if isinstance(exc, RequestInProgress):
        return Problem(409, "request_in_progress", str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, NoEligibleProvider):
        return Problem(422, "no_eligible_provider", str(exc), reasons=exc.reasons)
    if isinstance(exc, ProviderError):
        headers = retry_after(exc.retry_after) if exc.retry_after else {}
        return Problem(
            503,
            "provider_unavailable",
            "the provider could not be reached; nothing was changed",
            headers=headers,
            decline_code=exc.decline_code.value,
        )
    return Problem(500, "internal_error", "the request could not be completed")

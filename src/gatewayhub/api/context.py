"""What every handler works with: the hub and the API's own machinery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Authenticator, Principal
from gatewayhub.api.idempotency import HttpIdempotency
from gatewayhub.api.metrics import Metrics
from gatewayhub.config import ServiceConfig
from gatewayhub.hub import Hub
from gatewayhub.shared.ratelimit import RateLimiter


@dataclass(slots=True)
class Api:
    """One API instance over one started hub."""

    hub: Hub
    service: ServiceConfig
    auth: Authenticator
    limiter: RateLimiter
    metrics: Metrics
    keys: HttpIdempotency
    spec_bytes: bytes
    spec: dict[str, Any]
    docs_html: str


Handler = Callable[[Api, Request, Principal], Awaitable[Response]]
"""A route's code; `Principal` is the caller (a placeholder on routes without auth)."""

"""The ASGI application: `create_app(hub)` over a started `Hub`.

Every route runs through one wrapper that authenticates (when the route needs a scope),
rate-limits per merchant, turns errors into problem documents and records the latency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import exc as sa_exc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from gatewayhub.api import (
    endpoint_routes,
    operation_routes,
    payment_routes,
    provider_routes,
    refund_routes,
    simulation_routes,
)
from gatewayhub.api.auth import Authenticator, Principal
from gatewayhub.api.context import Api, Handler
from gatewayhub.api.docs import load_spec, render_html
from gatewayhub.api.idempotency import HttpIdempotency
from gatewayhub.api.metrics import Metrics
from gatewayhub.api.problems import Problem, problem_of, retry_after
from gatewayhub.api.webhook_routes import receive_webhook
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub.shared.ratelimit import RateLimit, RateLimiter, rate_limiter

log = logging.getLogger("gatewayhub.api")
READ, WRITE, REFUND, ADMIN = "payments:read", "payments:write", "refunds:write", "admin"
HOOKS = "webhooks:write"
_NOBODY = Principal("", frozenset(), "anonymous")

# (path, method, handler, scope needed; None: no authentication)
ROUTES: list[tuple[str, str, Handler, str | None]] = [
    ("/v1/payments", "POST", payment_routes.create_payment, WRITE),
    ("/v1/payments", "GET", payment_routes.list_payments, READ),
    ("/v1/payments/{payment_id}", "GET", payment_routes.get_payment, READ),
    ("/v1/payments/{payment_id}/capture", "POST", payment_routes.capture_payment, WRITE),
    ("/v1/payments/{payment_id}/void", "POST", payment_routes.void_payment, WRITE),
    ("/v1/payments/{payment_id}/refunds", "POST", refund_routes.create_refund, REFUND),
    ("/v1/payments/{payment_id}/refunds", "GET", refund_routes.list_payment_refunds, READ),
    ("/v1/refunds/{refund_id}", "GET", refund_routes.get_refund, READ),
    ("/v1/route-preview", "POST", provider_routes.preview_route, READ),
    ("/v1/simulations", "POST", simulation_routes.run_simulation, READ),
    ("/v1/providers", "GET", provider_routes.list_providers, ADMIN),
    ("/v1/webhook-endpoints", "POST", endpoint_routes.create_endpoint, HOOKS),
    ("/v1/webhook-endpoints", "GET", endpoint_routes.list_endpoints, READ),
    ("/v1/webhook-endpoints/{endpoint_id}", "GET", endpoint_routes.get_endpoint, READ),
    ("/v1/webhook-endpoints/{endpoint_id}", "DELETE", endpoint_routes.delete_endpoint, HOOKS),
    (
        "/v1/webhook-endpoints/{endpoint_id}/disable",
        "POST",
        endpoint_routes.disable_endpoint,
        HOOKS,
    ),
    ("/v1/webhook-endpoints/{endpoint_id}/enable", "POST", endpoint_routes.enable_endpoint, HOOKS),
    (
        "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        "POST",
        endpoint_routes.rotate_secret,
        HOOKS,
    ),
    (
        "/v1/webhook-endpoints/{endpoint_id}/deliveries",
        "GET",
        endpoint_routes.list_deliveries,
        READ,
    ),
    ("/v1/webhook-deliveries/{delivery_id}/redeliver", "POST", endpoint_routes.redeliver, HOOKS),
    ("/v1/events/{event_id}/redeliver", "POST", endpoint_routes.redeliver_event, HOOKS),
    ("/v1/webhooks/{provider}/{account}", "POST", receive_webhook, None),
    ("/healthz", "GET", operation_routes.healthz, None),
    ("/readyz", "GET", operation_routes.readyz, None),
    ("/metrics", "GET", operation_routes.metrics, None),
    ("/openapi.yaml", "GET", operation_routes.openapi_document, None),
    ("/docs", "GET", operation_routes.docs_page, None),
]


async def _admit(api: Api, request: Request, scope: str | None) -> Principal:
    """The caller, allowed `scope` and within its rate; routes without a scope admit all."""
    if scope is None:
        return _NOBODY
    who = await api.auth.authenticate(request.headers.get("authorization"))
    if not who.allows(scope):
        raise Problem(403, "forbidden", f"this operation needs the {scope} scope")
    wait = await api.limiter.acquire(who.merchant_id)
    if wait is not None:
        raise Problem(
            429,
            "rate_limited",
            "too many requests for this merchant; slow down",
            headers=retry_after(wait),
        )
    return who


def _failure(request: Request, path: str, exc: Exception) -> Response:
    if isinstance(exc, ClientDisconnect):
        # Nobody will read an answer; 499 (the client went away) only labels the metrics.
        log.info("%s %s: the client went away", request.method, path)
        return Response(status_code=499)
    if isinstance(exc, Problem):
        return exc.response()
    if isinstance(exc, GatewayError):
        problem = problem_of(exc)
        if problem.status >= 500:
            log.error("%s %s failed: %s: %s", request.method, path, type(exc).__name__, exc)
        return problem.response()
    if isinstance(exc, sa_exc.TimeoutError):
        # Every database connection of this instance is busy (overload): the request did
        # nothing yet and may be retried, here or on another instance.
        log.warning("%s %s: no database connection free: %s", request.method, path, exc)
        return Problem(
            503,
            "service_unavailable",
            "the service is overloaded; retry shortly",
            headers={"Retry-After": "1"},
        ).response()
    log.error("%s %s failed", request.method, path, exc_info=exc)
    return Problem(500, "internal_error", "the request could not be completed").response()


def _endpoint(api: Api, path: str, handler: Handler, scope: str | None) -> Any:
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(api, request, await _admit(api, request, scope))
        except Exception as exc:
            response = _failure(request, path, exc)
        api.metrics.latency.labels(request.method, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return Problem(
            405, "method_not_allowed", f"{request.method} is not allowed here"
        ).response()
    return Problem(404, "not_found", f"no route {request.url.path}").response()


def create_app(
    hub: Hub,
    *,
    limiter: RateLimiter | None = None,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """The HTTP API over `hub`, which must be started before the first request.

    Service and auth settings come from the hub's configuration (`[service]`, `[auth]`).
    `limiter` replaces the per-merchant limiter, which is shared through Redis when
    `[gateway] redis_url` is set and in-process otherwise."""
    config = hub.config
    rate = config.service.rate_limit
    spec_bytes, spec = load_spec()
    api = Api(
        hub=hub,
        service=config.service,
        auth=Authenticator(lambda: hub.store.db, config.auth, hub.clock),
        limiter=limiter
        or rate_limiter(hub.redis, RateLimit(rate.requests_per_second, rate.burst), hub.clock),
        metrics=Metrics(hub),
        keys=HttpIdempotency(
            lambda: hub.store, timedelta(seconds=config.gateway.idempotency_lease_seconds)
        ),
        spec_bytes=spec_bytes,
        spec=spec,
        docs_html=render_html(spec),
    )
    routes = [
        Route(path, _endpoint(api, path, handler, scope), methods=[method], name=f"{method} {path}")
        for path, method, handler, scope in ROUTES
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error}, lifespan=lifespan
    )
    app.state.api = api
    return app

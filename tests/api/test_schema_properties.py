"""Property run over openapi.yaml (schemathesis): no 5xx, and every answer as documented.

Cases are generated from the document and sent in process (httpx's ASGITransport) on one
event loop kept in a blocking portal, where the hub is started too, with an admin key so
requests get past authentication into the handlers. The number of examples
per operation is bounded so the run stays short.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gatewayhub.api import create_app
from gatewayhub.api.merchants import create_merchant
from gatewayhub.hub import Hub

from .conftest import PUBLIC_HOOK, drain_emulators, resolve, service_config

SCHEMA = schemathesis.openapi.from_path(Path(__file__).parents[2] / "openapi.yaml")
# Headers must stay encodable for the client to send them at all.
SCHEMA.config.generation.update(
    modes=["positive", "negative"], max_examples=12, deterministic=True, codec="ascii"
)
SCHEMA.config.phases.update(phases=["examples", "fuzzing"])
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class Served:
    """A started app on a portal's event loop, and an admin's key."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient, key: str) -> None:
        self.portal = portal
        self.client = client
        self.key = key

    def request(self, **kwargs: Any) -> httpx.Response:
        """Send on the portal's loop."""
        return self.portal.call(partial(self.client.request, **kwargs))


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    hub = Hub(
        service_config(database_url), rng=random.Random(3), background=False, resolver=resolve
    )
    with start_blocking_portal() as portal:
        portal.call(hub.start)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(hub)), base_url="http://testserver"
        )
        try:
            issued = portal.call(create_merchant, hub.store.db, "Fuzz", ["admin"], hub.clock.now())
            served = Served(portal, client, issued.key)
            # One real payment, so generated requests can also meet an existing resource.
            served.request(
                method="POST",
                url="/v1/payments",
                json={"amount": 500, "currency": "EUR", "payment_method": {"token": "tok_visa"}},
                headers={"Authorization": f"Bearer {issued.key}"},
            )
            # And one webhook endpoint, so the endpoint routes can meet one too.
            served.request(
                method="POST",
                url="/v1/webhook-endpoints",
                json={"url": PUBLIC_HOOK},
                headers={"Authorization": f"Bearer {issued.key}"},
            )
            yield served
        finally:
            portal.call(client.aclose)
            portal.call(drain_emulators, hub)
            portal.call(hub.close)


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments, as httpx takes them."""
    out = dict(kwargs)
    data = out.pop("data", None)
    if data is not None:
        out["content" if isinstance(data, bytes | str) else "data"] = data
    if not out.get("cookies"):
        out.pop("cookies", None)
    out.pop("verify", None)
    out.pop("allow_redirects", None)
    return out


@SCHEMA.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.key}"}
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    response = served.request(**_request(kwargs))
    case.validate_response(response, checks=CHECKS)

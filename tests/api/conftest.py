"""The HTTP API in process: a started hub over the sandbox providers, its app, and clients.

Every response a test reads through `Client` is checked against openapi.yaml (status, media
type, body schema, no undeclared keys) before the test sees it.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gatewayhub.api import create_app
from gatewayhub.api.merchants import create_merchant
from gatewayhub.config import default_config, parse_config
from gatewayhub.hub import Hub
from gatewayhub.shared.ratelimit import RateLimiter
from gatewayhub.testing import FixedClock
from gatewayhub.testing.openapi import OpenAPI
from gatewayhub_sandbox.provider import EmulatorTransport

SPEC = OpenAPI(Path(__file__).parents[2] / "openapi.yaml")
# A long HS256 secret, a test value only.
HS_SECRET = "test-only-hs256-secret-of-at-least-32-bytes-0001"
# Seals merchant webhook secrets in these tests (base64 of 32 bytes); never a real key.
WEBHOOK_KEY = "dGVzdC1rZXktZm9yLWdhdGV3YXlodWItd2ViaG9va3M="
PUBLIC_HOOK = "https://hooks.shop.example/gatewayhub"


async def resolve(host: str, port: int) -> list[str]:
    """DNS for the webhook URL guard: one public name, one private name, IP literals."""
    answers = {"hooks.shop.example": ["93.184.215.14"], "intranet.shop.example": ["10.1.2.3"]}
    if host in answers:
        return answers[host]
    if host.replace(".", "").isdigit() or ":" in host:
        return [host]
    raise OSError(f"no such host {host}")


def conforms(template: str, response: httpx.Response) -> None:
    """Fail unless `response` is what openapi.yaml says `template` answers."""
    media = response.headers.get("content-type", "").split(";")[0]
    body: Any = response.text
    if "json" in media:
        body = response.json()
    elif "yaml" in media:
        body = yaml.safe_load(body)
    problems = SPEC.response_errors(
        response.request.method, template, response.status_code, media, body
    )
    assert problems == [], (
        f"{response.request.method} {template} -> {response.status_code}: {problems}"
    )


class Client:
    """An httpx client on the app that checks every response against the document."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> Client:
        """The same app, another caller."""
        return Client(self.http, token)

    async def call(
        self,
        method: str,
        template: str,
        *,
        path: dict[str, str] | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """`method template` with path parameters filled in; `key` is the Idempotency-Key."""
        url = template.format(**(path or {}))
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if key is not None:
            sent["Idempotency-Key"] = key
        response = await self.http.request(method, url, headers=sent, **kwargs)
        conforms(template, response)
        return response


def service_config(database_url: str, **sections: Any) -> Any:
    """The built-in sandbox configuration on `database_url`, with `sections` replaced."""
    data = default_config().model_dump(mode="json", exclude_none=True)
    data["gateway"]["database_url"] = database_url
    data["service"] = {"rate_limit": {"requests_per_second": 10_000, "burst": 10_000}}
    data["webhooks"] = {"encryption_key": WEBHOOK_KEY}
    data.update(sections)
    return parse_config(data)


MakeApi = Callable[..., Awaitable[tuple[Hub, Client]]]


@pytest.fixture
async def make_api(database_url: str, clock: FixedClock) -> AsyncIterator[MakeApi]:
    """Build started hubs and clients on their apps; `sections` replace config sections."""
    opened: list[tuple[Hub, httpx.AsyncClient]] = []

    async def make(
        config: Any = None,
        limiter: RateLimiter | None = None,
        hub: Hub | None = None,
        **sections: Any,
    ) -> tuple[Hub, Client]:
        hub = hub or Hub(
            config or service_config(database_url, **sections),
            clock=clock,
            rng=random.Random(7),
            background=False,
            resolver=resolve,
        )
        await hub.start()
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(hub, limiter=limiter)),
            base_url="http://gatewayhub.test",
        )
        opened.append((hub, http))
        return hub, Client(http)

    yield make
    for hub, http in opened:
        await http.aclose()
        await drain_emulators(hub)
        await hub.close()


async def drain_emulators(hub: Hub) -> None:
    """Let webhooks the embedded sandboxes scheduled land before the hub closes (one still on
    its way into a closing hub would leave a database connection behind)."""
    for account in hub.accounts.values():
        transport = getattr(account.adapter.http.client, "_transport", None)
        if isinstance(transport, EmulatorTransport):
            await transport.emulator.drain()


@pytest.fixture
async def api(make_api: MakeApi) -> tuple[Hub, Client]:
    """The default service: three sandbox accounts, API keys, no JWT keys."""
    return await make_api()


class Inbox:
    """The merchant's receiver: records every request, answers 200."""

    def __init__(self) -> None:
        self.received: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(200)


@pytest.fixture
async def delivering_api(
    make_api: MakeApi, database_url: str, clock: FixedClock
) -> tuple[Hub, Client, Inbox]:
    """The default service whose merchant webhooks land in an `Inbox`."""
    inbox = Inbox()
    hub = Hub(
        service_config(database_url),
        clock=clock,
        rng=random.Random(7),
        background=False,
        resolver=resolve,
        webhook_transport=httpx.MockTransport(inbox.handle),
    )
    hub, client = await make_api(hub=hub)
    return hub, client, inbox


async def new_merchant(hub: Hub, name: str = "Shop", scopes: list[str] | None = None) -> str:
    """A merchant's fresh API key."""
    issued = await create_merchant(hub.store.db, name, scopes or [], hub.clock.now())
    return issued.key


PAYMENT = {"amount": 1050, "currency": "EUR", "payment_method": {"token": "tok_visa"}}

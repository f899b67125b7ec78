"""The webhook intake verifies through the adapter's async check, which may do I/O first
(fetch signing keys, ask the provider), and stores nothing when it refuses."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from gatewayhub.errors import NotSent
from gatewayhub.models import EventKind, ProviderEvent
from gatewayhub.provider import WebhookVerificationError

from .conftest import MakeHub, fake


async def test_the_async_check_runs_before_parsing(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    adapter = fake(hub, "a")
    calls: list[str] = []

    async def verify(headers: Mapping[str, str], body: bytes) -> None:
        calls.append(f"verify {body.decode()}")

    adapter.verify_webhook_async = verify  # type: ignore[method-assign]
    adapter.events.append(ProviderEvent("evt_1", EventKind.UNHANDLED, "x"))
    await hub.handle_webhook("a", {}, b"{}")
    assert calls == ["verify {}"]
    assert await hub.process_webhooks() == 1


@pytest.mark.parametrize(
    "error", [WebhookVerificationError("bad_signature", "no"), NotSent("keys unreachable")]
)
async def test_refused_or_unverifiable_webhooks_store_nothing(
    make_hub: MakeHub, error: Exception
) -> None:
    hub = await make_hub({"a": {}})
    adapter = fake(hub, "a")

    async def verify(headers: Mapping[str, str], body: bytes) -> None:
        raise error

    adapter.verify_webhook_async = verify  # type: ignore[method-assign]
    adapter.events.append(ProviderEvent("evt_1", EventKind.AUTHORIZED, "x"))
    with pytest.raises(type(error)):
        await hub.handle_webhook("a", {}, b"{}")
    assert await hub.process_webhooks() == 0

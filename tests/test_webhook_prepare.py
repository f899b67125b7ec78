"""The webhook intake lets an adapter fetch what verification needs before it verifies."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from gatewayhub.provider import WebhookVerificationError

from .conftest import MakeHub, fake


async def test_prepare_runs_before_verify(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    adapter = fake(hub, "a")
    calls: list[str] = []

    async def prepare(headers: Mapping[str, str], body: bytes) -> None:
        calls.append(f"prepare {body.decode()}")

    def verify(headers: Mapping[str, str], body: bytes) -> None:
        calls.append(f"verify {body.decode()}")

    adapter.prepare_webhook = prepare  # type: ignore[method-assign]
    adapter.verify_webhook = verify  # type: ignore[method-assign]
    await hub.handle_webhook("a", {}, b"{}")
    assert calls == ["prepare {}", "verify {}"]


async def test_verification_still_decides_after_prepare(make_hub: MakeHub) -> None:
    hub = await make_hub({"a": {}})
    adapter = fake(hub, "a")

    def verify(headers: Mapping[str, str], body: bytes) -> None:
        raise WebhookVerificationError("bad_signature", "no")

    adapter.verify_webhook = verify  # type: ignore[method-assign]
    with pytest.raises(WebhookVerificationError):
        await hub.handle_webhook("a", {}, b"{}")

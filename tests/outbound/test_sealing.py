"""Signing secrets at rest: sealed, bound to their row, rotatable, never readable without a key."""

from __future__ import annotations

import pytest

from gatewayhub.errors import ConfigError
from gatewayhub.outbound import SecretBox, new_encryption_key
from gatewayhub.outbound.sealing import new_signing_secret
from gatewayhub.webhooks.standard import secret_bytes

from .conftest import ENCRYPTION_KEY, MakeHub, Receiver

OLD = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleSE="


def test_round_trip_and_binding() -> None:
    box = SecretBox(ENCRYPTION_KEY)
    sealed = box.seal("whsec_abc", "ep_1")
    assert "whsec_abc" not in sealed
    assert box.open(sealed, "ep_1") == "whsec_abc"
    assert box.seal("whsec_abc", "ep_1") != sealed, "a fresh nonce every time"
    with pytest.raises(ConfigError, match="does not open"):
        box.open(sealed, "ep_2")


def test_rotation_opens_old_seals_and_seals_with_the_new_key() -> None:
    old = SecretBox(OLD).seal("whsec_abc", "ep_1")
    rotated = SecretBox(ENCRYPTION_KEY, [OLD])
    assert rotated.open(old, "ep_1") == "whsec_abc"
    assert SecretBox(ENCRYPTION_KEY).open(rotated.seal("whsec_abc", "ep_1"), "ep_1") == "whsec_abc"
    with pytest.raises(ConfigError, match="not configured"):
        SecretBox(ENCRYPTION_KEY).open(old, "ep_1")


def test_keys_must_be_32_bytes_of_base64() -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        SecretBox("c2hvcnQ=")
    with pytest.raises(ConfigError, match="not base64"):
        SecretBox("not base64!")
    assert len(SecretBox(new_encryption_key())._keys) == 1
    assert ENCRYPTION_KEY not in repr(SecretBox(ENCRYPTION_KEY))


def test_signing_secrets_are_standard_webhooks_secrets() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    assert len(secret_bytes(secret)) == 32
    assert new_signing_secret() != secret


async def test_registering_without_a_key_says_how_to_get_one(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    hub = await make_hub(encryption_key=None)
    with pytest.raises(ConfigError, match=r"webhooks\.encryption_key is not set"):
        await hub.endpoints.register("default", receiver.url())
    assert await hub.endpoints.list("default") == []


async def test_the_key_can_come_from_the_environment(
    make_hub: MakeHub, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TEST_WEBHOOK_KEY", ENCRYPTION_KEY)
    hub = await make_hub(encryption_key="env:GH_TEST_WEBHOOK_KEY")
    registered = await hub.endpoints.register("default", receiver.url())
    assert registered.endpoint.enabled

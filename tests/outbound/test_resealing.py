"""Re-sealing the stored signing secrets under a new encryption key, so the old key can go:
through `Hub.reseal_webhook_secrets` and the `gatewayhub webhooks reseal` command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from gatewayhub.cli import app
from gatewayhub.errors import ConfigError
from gatewayhub.hub import Hub
from gatewayhub.storage.schema import webhook_endpoints
from gatewayhub.testing import FixedClock
from gatewayhub.webhooks.standard import verify

from .conftest import ENCRYPTION_KEY, EUR_10, MakeHub, Receiver, drain, webhooks_config

NEW_KEY = "bmV3LXRlc3Qta2V5LWZvci1nYXRld2F5aHViLWhvb2s="  # base64 of 32 bytes, tests only


async def stored(hub: Hub) -> list[tuple[str, str | None]]:
    def body(conn: sa.Connection) -> list[tuple[str, str | None]]:
        query = sa.select(webhook_endpoints.c.secret, webhook_endpoints.c.previous_secret)
        return [(r.secret, r.previous_secret) for r in conn.execute(query.order_by("id"))]

    return await hub.store.db.run(body)


def key_ids(rows: list[tuple[str, str | None]]) -> set[str]:
    return {value.split(".")[1] for row in rows for value in row if value is not None}


async def test_secrets_sealed_with_the_old_key_open_with_the_new_key_alone(
    make_hub: MakeHub, receiver: Receiver, clock: FixedClock
) -> None:
    old_hub = await make_hub()
    first = await old_hub.endpoints.register("default", receiver.url("/one"))
    second = await old_hub.endpoints.register("default", receiver.url("/two"))
    rotated = await old_hub.endpoints.rotate_secret("default", second.endpoint.id)
    assert len(key_ids(await stored(old_hub))) == 1, "everything under the old key"
    await old_hub.close()

    rotating = await make_hub(encryption_key=NEW_KEY, previous_encryption_keys=[ENCRYPTION_KEY])
    done = await rotating.reseal_webhook_secrets()
    # Two current secrets and the one the rotation replaced.
    assert (done.resealed, done.already_current) == (3, 0)
    rows = await stored(rotating)
    assert key_ids(rows) == {done.key_id}
    again = await rotating.reseal_webhook_secrets()
    assert (again.resealed, again.already_current) == (0, 3), "a second run changes nothing"
    await rotating.close()

    # The old key is gone from the configuration: deliveries are still signed with the
    # secrets the merchant was shown, the replaced one included while its overlap runs.
    new_only = await make_hub(encryption_key=NEW_KEY)
    await new_only.authorize(**EUR_10)
    await drain(new_only)
    (to_first,) = receiver.at("/one")
    verify([first.secret], to_first.headers, to_first.body, clock.now())
    (to_second,) = receiver.at("/two")
    for secret in (second.secret, rotated.secret):
        verify([secret], to_second.headers, to_second.body, clock.now())


async def test_a_secret_no_configured_key_opens_stops_the_run_before_any_write(
    make_hub: MakeHub, receiver: Receiver
) -> None:
    old_hub = await make_hub()
    registered = await old_hub.endpoints.register("default", receiver.url())
    before = await stored(old_hub)
    await old_hub.close()

    forgot_the_old_key = await make_hub(encryption_key=NEW_KEY)
    with pytest.raises(ConfigError, match=registered.endpoint.id) as raised:
        await forgot_the_old_key.reseal_webhook_secrets()
    assert "previous_encryption_keys" in str(raised.value)
    assert await stored(forgot_the_old_key) == before


def test_the_reseal_command(sqlite_url: str, tmp_path: Path) -> None:
    async def register() -> None:
        async with Hub(webhooks_config(sqlite_url), background=False) as hub:
            await hub.endpoints.register("default", "http://127.0.0.1:9/hook")

    asyncio.run(register())
    config = tmp_path / "gateway.toml"
    config.write_text(
        f"""
[gateway]
database_url = "{sqlite_url}"

[webhooks]
encryption_key = "{NEW_KEY}"
previous_encryption_keys = ["{ENCRYPTION_KEY}"]

[providers.a]
type = "sandbox"
"""
    )
    result = CliRunner().invoke(app, ["webhooks", "reseal", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("re-sealed 1 secret(s) with key ")
    assert lines[1] == "0 secret(s) were sealed with it already"

    async def sealed_with() -> set[str]:
        async with Hub(webhooks_config(sqlite_url, encryption_key=NEW_KEY)) as hub:
            return key_ids(await stored(hub))

    assert asyncio.run(sealed_with()) == {lines[0].rsplit(" ", 1)[1]}

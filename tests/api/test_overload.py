"""Running out of database connections under overload is a 503 the client may retry, not a
500. PostgreSQL only: SQLite has one connection and no pool to wait for."""

from __future__ import annotations

import asyncio
import random

import httpx
import sqlalchemy as sa

from gatewayhub.api import create_app
from gatewayhub.hub import Hub
from gatewayhub.testing import FixedClock

from .conftest import PAYMENT, Client, conforms, new_merchant, service_config


def count_payments(conn: sa.Connection) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM payments")).scalar_one())


async def test_no_free_database_connection_is_503_with_retry_after(
    postgres_url: str, clock: FixedClock
) -> None:
    gateway = {
        "database_url": postgres_url,
        "pool_size": 1,
        "max_overflow": 0,
        "pool_timeout_seconds": 0.2,
    }
    hub = Hub(
        service_config(postgres_url, gateway=gateway),
        clock=clock,
        rng=random.Random(7),
        background=False,
    )
    await hub.start()
    app = httpx.ASGITransport(app=create_app(hub))
    try:
        client = Client(httpx.AsyncClient(transport=app, base_url="http://gatewayhub.test"))
        client = client.as_(await new_merchant(hub))
        payments_before = await hub.store.db.run(count_payments)
        # The instance's only connection is busy for longer than a request waits for one.
        busy = asyncio.create_task(
            hub.store.db.run(lambda conn: conn.execute(sa.text("SELECT pg_sleep(3)")))
        )
        await asyncio.sleep(0.3)
        answer = await client.http.post(
            "/v1/payments",
            json=PAYMENT,
            headers={"Authorization": f"Bearer {client.token}", "Idempotency-Key": "busy-1"},
        )
        await busy
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "service_unavailable"
        conforms("/v1/payments", answer)
        # Counted across merchants: the database is shared with the session's other tests.
        assert await hub.store.db.run(count_payments) == payments_before, "nothing was written"
        await client.http.aclose()
    finally:
        await hub.close()

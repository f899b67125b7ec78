"""What `gatewayhub serve` does around the hub's start: the start-up heap is frozen out of
the cyclic collector's reach, so full collections do not stall requests (see serve.py)."""

from __future__ import annotations

import gc

from gatewayhub.api.serve import _app
from gatewayhub.config import default_config
from gatewayhub.hub import Hub


async def test_the_start_up_heap_is_frozen_once_the_hub_has_started(sqlite_url: str) -> None:
    config = default_config()
    hub = Hub(
        config.model_copy(
            update={"gateway": config.gateway.model_copy(update={"database_url": sqlite_url})}
        )
    )
    app = _app(hub)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        async with app.router.lifespan_context(app):
            assert await hub.store.peek_key("m", "k") is None, "the hub has started"
            assert gc.get_freeze_count() > 10_000, "modules, schema and validators are frozen"
    finally:
        gc.unfreeze()

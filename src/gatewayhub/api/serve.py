"""`gatewayhub serve`: the API under uvicorn, the hub started and stopped with the server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from gatewayhub.api.app import create_app
from gatewayhub.hub import Hub


def banner(hub: Hub, base_url: str) -> str:
    """The one line printed once the server listens."""
    hooks = " ".join(
        f"{base_url}/v1/webhooks/{hub.config.providers[name].type}/{name}"
        for name, account in hub.config.providers.items()
        if account.enabled
    )
    return f"gatewayhub API {base_url}/v1  docs {base_url}/docs  webhooks {hooks}"


class _Server(uvicorn.Server):
    """Prints the banner once the sockets are bound (the port may have been 0)."""

    def __init__(self, config: uvicorn.Config, hub: Hub, public_url: str | None) -> None:
        super().__init__(config)
        self.hub = hub
        self.public_url = public_url

    async def startup(self, sockets: Sequence[socket.socket] | None = None) -> None:
        """Start, then say where."""
        await super().startup(sockets=list(sockets) if sockets is not None else None)
        if not self.started:
            return
        base = self.public_url
        if base is None:
            port = self.config.port
            for server in self.servers:
                for bound in server.sockets:
                    port = bound.getsockname()[1]
            base = f"http://{self.config.host}:{port}"
        print(banner(self.hub, base.rstrip("/")), flush=True)


def serve(hub: Hub, host: str, port: int) -> None:
    """Run until interrupted."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with hub:
            yield

    app = create_app(hub, lifespan=lifespan)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # On SIGTERM, requests in flight get this long before the hub is closed anyway.
        timeout_graceful_shutdown=10,
    )
    _Server(config, hub, hub.config.service.public_url).run()

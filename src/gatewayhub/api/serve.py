"""`gatewayhub serve`: the API under uvicorn, the hub started and stopped with the server.

With `--workers N` uvicorn's own supervisor binds the socket once and runs N processes
that share it; each builds its own `Hub` from the environment (`worker_app`). The parent
migrates the database first, restarts a worker that dies, and on SIGTERM passes it on to
every worker, which stops accepting, finishes its requests and closes its hub.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from gatewayhub.api.app import create_app
from gatewayhub.config import default_config, load_config
from gatewayhub.errors import ConfigError
from gatewayhub.hub import Hub
from gatewayhub.outbound.local_key import with_sealing_key
from gatewayhub.settings import EnvSettings
from gatewayhub.storage import migrate_database

# On SIGTERM, requests in flight get this long before the hub is closed anyway (and the hub
# then waits `[gateway] shutdown_grace_seconds` for payment operations still running).
GRACEFUL_SECONDS = 10


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


def _app(hub: Hub) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with hub:
            # What exists once the hub has started (modules, the schema, compiled statements,
            # validators: ~10^5 objects) lives as long as the process. Left to the cyclic
            # collector, each full collection walks all of it and answers nothing meanwhile:
            # measured 56 ms per pause, one every ~1,500 payments. Frozen, it is never
            # walked; what requests allocate is collected as before.
            gc.freeze()
            yield

    return create_app(hub, lifespan=lifespan)


def serve(hub: Hub, host: str, port: int) -> None:
    """Run until interrupted."""
    config = uvicorn.Config(
        _app(hub),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    _Server(config, hub, hub.config.service.public_url).run()


def worker_app() -> Starlette:
    """The application of one worker process (uvicorn's factory): a hub of its own, from
    `GATEWAYHUB_CONFIG` and `GATEWAYHUB_DATABASE_URL`, which `serve_workers` sets."""
    env = EnvSettings()
    config = load_config(env.config) if env.config else default_config()
    # The same key rule as the parent's: a local key file the parent made is reused.
    config = with_sealing_key(
        config, env.database_url or config.gateway.database_url, config_file=bool(env.config)
    )
    return _app(Hub(config, database_url=env.database_url))


def serve_workers(hub: Hub, config_path: str | None, host: str, port: int, workers: int) -> None:
    """Run `workers` processes on one socket until interrupted; `hub` (not started) gives the
    configuration and database, which is migrated here once, before any worker starts."""
    url = hub.database_url
    if port == 0:
        raise ConfigError("--workers needs a fixed --port (the workers share one socket)")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError("an in-memory SQLite database cannot be shared by several workers")
    options = hub.config.gateway.model_copy(update={"database_url": url}).database_options()
    asyncio.run(migrate_database(url, **options))
    # The workers are fresh interpreters: they read the same settings from the environment.
    if config_path is not None:
        os.environ["GATEWAYHUB_CONFIG"] = str(Path(config_path).resolve())
    os.environ["GATEWAYHUB_DATABASE_URL"] = url
    base = (hub.config.service.public_url or f"http://{host}:{port}").rstrip("/")
    print(f"{banner(hub, base)}  workers {workers}", flush=True)
    uvicorn.run(
        "gatewayhub.api.serve:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )

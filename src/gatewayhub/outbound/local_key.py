"""A zero-setup sealing key for `gatewayhub serve` and `gatewayhub demo` on a local SQLite file.

Merchant signing secrets are stored sealed (gatewayhub.outbound.sealing), which needs
`[webhooks] encryption_key`. On a developer's machine - the built-in configuration and a
SQLite file - asking for that first would stop `gatewayhub serve` from working out of the box,
so a key is made once into `<database file>.webhook-key` (mode 0600) and reused on every later
start. The key then sits beside the data it protects, which is fine for a local file and not
for a shared gateway: with PostgreSQL or an explicit configuration file the key must be
configured - in the file, or as `GATEWAYHUB_WEBHOOK_KEY` in the environment - and starting
without one fails with a message saying how to make one.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gatewayhub.config import HubConfig
from gatewayhub.errors import ConfigError
from gatewayhub.outbound.sealing import new_encryption_key

log = logging.getLogger("gatewayhub.outbound")

KEY_SUFFIX = ".webhook-key"
ENV_KEY = "GATEWAYHUB_WEBHOOK_KEY"
HOW_TO = (
    f"Set {ENV_KEY}, or [webhooks] encryption_key in the configuration, to 32 random bytes in "
    "base64: `python -c 'from gatewayhub.outbound import new_encryption_key as k; print(k())'`"
)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases and in-memory SQLite."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(url.database)


def key_file_for(database: Path) -> Path:
    """Where the local key of the SQLite file `database` lives."""
    return database.with_name(database.name + KEY_SUFFIX)


def _read(path: Path) -> str:
    text = path.read_text(encoding="ascii").strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(
            f"{path} does not hold a webhook sealing key (base64 of 32 bytes); restore it, "
            "or delete it together with the webhook endpoints sealed under it"
        )
    return text


def _create(path: Path) -> bool:
    """Write a fresh key to `path` unless one is there; True when this call wrote it.

    The key is written to a private temporary file first and linked into place, so two
    processes starting at once agree on one key and nobody reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".webhook-key-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:  # mkstemp: mode 0600
            out.write(new_encryption_key() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def local_key(database: Path) -> str:
    """The key kept beside `database`, made on first use."""
    path = key_file_for(database)
    created = False if path.exists() else _create(path)
    key = _read(path)
    log.warning(
        "merchant webhook secrets are sealed with the local key in %s (%s; fine beside a "
        "local SQLite file, a shared gateway sets [webhooks] encryption_key)",
        path,
        "made now" if created else "made earlier",
    )
    return key


def with_sealing_key(config: HubConfig, database_url: str, *, config_file: bool) -> HubConfig:
    """`config` with a sealing key: the configured one, else `GATEWAYHUB_WEBHOOK_KEY`, else the
    local one when the built-in configuration runs on a SQLite file; `ConfigError` otherwise."""
    if config.webhooks.encryption_key:
        return config
    from_env = os.environ.get(ENV_KEY)
    if from_env:
        return _keyed(config, from_env)
    database = sqlite_file(database_url)
    if config_file or database is None:
        # Never the URL itself: it may carry a password.
        where = "a configuration file" if config_file else "a database other than a SQLite file"
        raise ConfigError(
            "webhooks.encryption_key is not set: merchant webhook signing secrets are stored "
            f"encrypted, and with {where} gatewayhub does not make a local key. {HOW_TO}"
        )
    return _keyed(config, local_key(database))


def _keyed(config: HubConfig, key: str) -> HubConfig:
    webhooks = config.webhooks.model_copy(update={"encryption_key": key})
    return config.model_copy(update={"webhooks": webhooks})

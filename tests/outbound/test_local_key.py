"""The zero-setup sealing key: made once beside a local SQLite file, required elsewhere."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest

from gatewayhub.config import default_config
from gatewayhub.errors import ConfigError
from gatewayhub.hub import Hub
from gatewayhub.outbound.local_key import sqlite_file, with_sealing_key

from .conftest import ENCRYPTION_KEY


def test_a_key_is_made_once_beside_the_database_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    with caplog.at_level(logging.WARNING, "gatewayhub.outbound"):
        first = with_sealing_key(default_config(), url, config_file=False)
    key_file = tmp_path / "shop.db.webhook-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = first.webhooks.encryption_key
    assert key is not None
    assert len(base64.b64decode(key)) == 32
    assert key_file.read_text().strip() == key
    assert [r.getMessage() for r in caplog.records] == [
        f"merchant webhook secrets are sealed with the local key in {key_file} (made now; "
        "fine beside a local SQLite file, a shared gateway sets [webhooks] encryption_key)"
    ]
    assert key not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, "gatewayhub.outbound"):
        again = with_sealing_key(default_config(), url, config_file=False)
    assert again.webhooks.encryption_key == key
    assert "(made earlier;" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db.webhook-key"]


def test_a_relative_database_path_keeps_its_key_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with_sealing_key(default_config(), "sqlite:///gatewayhub.db", config_file=False)
    assert (tmp_path / "gatewayhub.db.webhook-key").exists()


def test_a_configured_key_is_used_and_no_file_is_made(tmp_path: Path) -> None:
    base = default_config()
    webhooks = base.webhooks.model_copy(update={"encryption_key": ENCRYPTION_KEY})
    config = base.model_copy(update={"webhooks": webhooks})
    kept = with_sealing_key(config, f"sqlite:///{tmp_path / 'x.db'}", config_file=True)
    assert kept.webhooks.encryption_key == ENCRYPTION_KEY
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "config_file", "where"),
    [
        ("postgresql://shop:hunter2-password@db.internal/pay", False, "a database other than"),
        ("sqlite:///:memory:", False, "a database other than"),
        ("sqlite:///{tmp}/x.db", True, "a configuration file"),
    ],
)
def test_without_a_local_sqlite_file_the_key_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, config_file: bool, where: str
) -> None:
    monkeypatch.delenv("GATEWAYHUB_WEBHOOK_KEY", raising=False)
    with pytest.raises(ConfigError) as raised:
        with_sealing_key(default_config(), url.format(tmp=tmp_path), config_file=config_file)
    message = str(raised.value)
    assert "webhooks.encryption_key is not set" in message
    assert where in message
    assert "new_encryption_key" in message
    assert "GATEWAYHUB_WEBHOOK_KEY" in message
    assert "hunter2" not in message
    assert list(tmp_path.iterdir()) == []


def test_the_environment_key_is_used_where_no_key_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAYHUB_WEBHOOK_KEY", ENCRYPTION_KEY)
    for url in ("postgresql://u@db/pay", f"sqlite:///{tmp_path / 'x.db'}"):
        config = with_sealing_key(default_config(), url, config_file=True)
        assert config.webhooks.encryption_key == ENCRYPTION_KEY
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "shop.db.webhook-key").write_text("not a key\n")
    with pytest.raises(ConfigError, match=r"shop\.db\.webhook-key does not hold"):
        with_sealing_key(default_config(), f"sqlite:///{tmp_path / 'shop.db'}", config_file=False)
    assert (tmp_path / "shop.db.webhook-key").read_text() == "not a key\n"


def test_only_sqlite_files_count() -> None:
    assert sqlite_file("sqlite:////var/lib/gh/a.db") == Path("/var/lib/gh/a.db")
    assert sqlite_file("sqlite:///a.db") == Path("a.db")
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
    assert sqlite_file("sqlite://") is None


async def test_the_local_key_seals_endpoints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    config = with_sealing_key(default_config(), url, config_file=False)
    async with Hub(config, database_url=url, background=False) as hub:
        registered = await hub.endpoints.register(
            "m1", "http://127.0.0.1:9/hooks", allow_private=True
        )
        assert registered.secret.startswith("whsec_")

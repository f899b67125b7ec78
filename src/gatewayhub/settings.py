"""Process settings from the environment (prefix `GATEWAYHUB_`), for the CLI and the service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class EnvSettings(BaseSettings):
    """`GATEWAYHUB_CONFIG` (a TOML file) and `GATEWAYHUB_DATABASE_URL` (overrides the file)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAYHUB_", extra="ignore")

    config: Path | None = None
    database_url: str | None = None
    log_level: str = "WARNING"

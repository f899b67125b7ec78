"""The README's examples work as written."""

from __future__ import annotations

import re
import runpy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gatewayhub.config import parse_config
from gatewayhub.hub import Hub

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", README, re.S)
    assert len(found) == 1, f"expected one {language} block"
    return found[0]


def test_the_configuration_example_is_valid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tomllib.loads(block("toml"))
    placeholders = {"ADYEN_HMAC_KEY": "0" * 64, "RAZORPAY_KEY_ID": "rzp_test_readme"}
    for name in re.findall(r'"env:([A-Z_]+)"', block("toml")):
        monkeypatch.setenv(name, placeholders.get(name, f"{name.lower()}-value"))
    data["gateway"]["database_url"] = f"sqlite:///{tmp_path / 'readme.db'}"
    hub = Hub(parse_config(data, "README.md"))
    assert set(hub.config.providers) == {"adyen_eu", "razorpay_in"}


def test_the_quickstart_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "quickstart.py"
    script.write_text(block("python"))
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("authorized sandbox_eu [")
    assert "payment.captured" in out
    assert (tmp_path / "gatewayhub.db").exists()


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def test_the_run_command_starts_the_service() -> None:
    run = shell_blocks()[0].strip()
    assert run == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . -e providers/sandbox"
        " && .venv/bin/gatewayhub serve"
    )


def test_every_gatewayhub_command_in_the_readme_exists() -> None:
    from typer.main import get_command  # noqa: PLC0415

    from gatewayhub.cli import app  # noqa: PLC0415

    cli: Any = get_command(app)
    used = re.findall(r"\.venv/bin/gatewayhub ([a-z]+)(?: ([a-z]+))?", README)
    assert {name for name, _ in used} >= {"serve", "demo", "merchants", "simulate"}
    for name, sub in used:
        command = cli.commands.get(name)
        assert command is not None, name
        if sub:  # a group's subcommand, or an argument of a plain command
            subcommands = getattr(command, "commands", None)
            assert subcommands is None or sub in subcommands, f"{name} {sub}"


def test_the_walkthrough_configuration_allows_the_local_receiver(tmp_path: Path) -> None:
    walkthrough = next(b for b in shell_blocks() if "walkthrough.toml" in b)
    text = re.search(r"<<'EOF'\n(.*?)\nEOF\n", walkthrough, re.S)
    assert text is not None
    config = parse_config(tomllib.loads(text.group(1)), "README walkthrough")
    assert config.webhooks.allow_private_webhook_urls is True
    assert config.webhooks.encryption_key is None, "the key comes from GATEWAYHUB_WEBHOOK_KEY"
    assert list(config.providers) == ["sandbox_eu"]
    assert "export GATEWAYHUB_WEBHOOK_KEY=" in walkthrough

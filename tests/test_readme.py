"""The README's examples work as written."""

from __future__ import annotations

import re
import runpy
import tomllib
from pathlib import Path

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

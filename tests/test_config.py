"""Configuration mistakes are specific errors, before any database or provider is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewayhub.config import load_config, parse_config
from gatewayhub.errors import ConfigError
from gatewayhub.hub import Hub

GOOD = """
[gateway]
database_url = "sqlite:///{db}"

[routing]
strategies = ["least_cost", "priority"]

[[routing.rules]]
name = "big EUR to a"
use = ["a"]
fallback = true
when = {{ amount_gt = "1000 EUR" }}

[providers.a]
type = "fake"
fees = {{ percent = "1.4", fixed = {{ EUR = "0.25 EUR" }} }}
[providers.a.settings]
currencies = ["EUR"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gatewayhub.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.format(db=tmp_path / "x.db")))
    assert config.routing.rules[0].use == ["a"]
    assert config.providers["a"].fees["percent"] == "1.4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[gateway\n", "not valid TOML"),
        (
            "[providers.a]\ntype = 'fake'\ncolour = 'blue'",
            "providers.a.colour: Extra inputs are not permitted",
        ),
        ("[routing]\nstrategies = ['cheapest']", "routing.strategies.0"),
        (
            "[[routing.rules]]\nname = 'r'\nuse = ['nobody']\n[providers.a]\ntype='fake'",
            "unknown accounts ['nobody']",
        ),
        (
            "[[routing.rules]]\nname='r'\nuse=['a']\nwhen={amount_gt='lots'}\n[providers.a]\ntype='fake'",
            "amount_gt",
        ),
        ("[providers.a]\ntype='fake'\nlimits={EUR=['10 USD', '20 USD']}", "must be in EUR"),
        ("[providers.a]\ntype='fake'\nsettlement_currencies=['euro']", "settlement_currencies.0"),
        ("[fx]\n'USD-EUR' = '0.9'", 'must look like "USD/EUR"'),
    ],
)
def test_invalid_files_say_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        load_config(write(tmp_path, text))


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("/nonexistent/gatewayhub.toml")


def test_unknown_provider_type_names_the_installed_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown provider type 'stripey'; installed: .*fake.*sandbox"
    ):
        Hub(
            parse_config(
                {
                    "gateway": {"database_url": f"sqlite:///{tmp_path / 'x.db'}"},
                    "providers": {"a": {"type": "stripey"}},
                }
            )
        )
    assert not (tmp_path / "x.db").exists(), "nothing is created for a bad configuration"


def test_missing_credentials_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GH_TEST_SANDBOX_KEY", raising=False)
    config = parse_config(
        {
            "providers": {
                "a": {
                    "type": "sandbox",
                    "settings": {
                        "base_url": "http://127.0.0.1:9",
                        "api_key": "env:GH_TEST_SANDBOX_KEY",
                    },
                }
            }
        }
    )
    with pytest.raises(
        ConfigError,
        match=r"providers\.a\.settings\.api_key reads the environment variable GH_TEST_SANDBOX_KEY, which is not set",
    ):
        Hub(config)
    monkeypatch.setenv("GH_TEST_SANDBOX_KEY", "sk_sandbox_from_env")
    hub = Hub(config)
    assert "sk_sandbox_from_env" not in repr(hub.accounts) + repr(hub._prepared)


def test_adapter_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"providers.a.settings: currencies.0: .*'EURO' is not an active ISO 4217"
    ):
        Hub(
            parse_config(
                {"providers": {"a": {"type": "fake", "settings": {"currencies": ["EURO"]}}}}
            )
        )


def test_no_providers() -> None:
    with pytest.raises(ConfigError, match="no provider accounts"):
        Hub(parse_config({}))


@pytest.mark.parametrize("name", ["idempotency_lease_seconds", "reconcile_after_seconds"])
def test_leases_and_reconcile_delays_must_outlast_an_attempts_send_window(name: str) -> None:
    # Deadline 8 + timeout 2 + grace 1: an attempt may still be on its way for 11 s.
    def hub(value: float) -> Hub:
        return Hub(
            parse_config(
                {
                    "gateway": {"in_flight_grace_seconds": 1, name: value},
                    "retry": {"deadline": 8},
                    "providers": {
                        "fast": {"type": "fake", "settings": {"timeouts": {"total": 1}}},
                        "slow": {"type": "fake", "settings": {"timeouts": {"total": 2}}},
                    },
                }
            )
        )

    with pytest.raises(ConfigError, match=rf"gateway.{name} is 10 s, shorter than .* 11 s"):
        hub(10)
    assert hub(11).config.gateway.model_dump()[name] == 11
    defaults = Hub(parse_config({"providers": {"fast": {"type": "fake"}}})).config.gateway
    assert getattr(defaults, name) == 90, "the defaults fit the default send window (70 s)"

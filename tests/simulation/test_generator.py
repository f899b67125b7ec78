"""The synthetic history follows its profile."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from gatewayhub.errors import ConfigError
from gatewayhub.simulation.generator import GeneratorProfile, generate, load_profile

N = 100_000


def _share(values: np.ndarray, code: int) -> float:
    return float((values == code).mean())


def test_mix_follows_the_profile() -> None:
    profile = GeneratorProfile.model_validate(
        {
            "start": "2026-03-02",
            "days": 14,
            "merchant_country": "DE",
            "cross_border_share": 0.25,
            "currencies": {
                "EUR": {"share": 0.7, "median": "40.00", "foreign_countries": {"FR": 1}},
                "JPY": {"share": 0.2, "median": "5000", "spread": 0.5,
                        "foreign_countries": {"JP": 1}},
                "KWD": {"share": 0.1, "median": "12.500", "spread": 0.5,
                        "foreign_countries": {"KW": 1}},
            },
            "methods": {"card": 0.9, "paypal": 0.1},
            "card_brands": {"visa": 0.6, "mastercard": 0.4},
        }
    )  # fmt: skip
    t = generate(N, profile, seed=1)
    assert len(t) == N
    cur = {c: i for i, c in enumerate(t.currencies)}
    assert _share(t.currency, cur["EUR"]) == pytest.approx(0.7, abs=0.01)
    assert _share(t.currency, cur["KWD"]) == pytest.approx(0.1, abs=0.01)
    # medians in minor units: 40.00 EUR, 5000 yen, 12.500 KWD (fils)
    for code, median in (("EUR", 4000), ("JPY", 5000), ("KWD", 12500)):
        amounts = t.amount[t.currency == cur[code]]
        assert np.median(amounts) == pytest.approx(median, rel=0.05)
        assert amounts.min() >= 1
    assert t.amount.dtype == np.int64
    countries = {c: i for i, c in enumerate(t.countries)}
    foreign = t.issuer != countries["DE"]
    assert foreign.mean() == pytest.approx(0.25, abs=0.01)
    # cross-border cards come from the currency's own list
    assert set(np.unique(t.issuer[foreign & (t.currency == cur["JPY"])])) == {countries["JP"]}
    methods = {m.value: i for i, m in enumerate(t.methods)}
    paypal = t.method == methods["paypal"]
    assert paypal.mean() == pytest.approx(0.1, abs=0.01)
    assert (t.brand[paypal] == 0).all()  # no card brand on wallet payments
    assert (t.brand[~paypal] > 0).all()


def test_time_of_day_and_period() -> None:
    t = generate(N, seed=2)
    assert np.all(np.diff(t.timestamp) >= 0)
    start = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    assert t.timestamp.min() >= start
    assert t.timestamp.max() < start + 28 * 86_400
    hours = (t.timestamp // 3600) % 24
    # the default rhythm: evening peak (20h) about eleven times the 3-4h trough
    assert (hours == 20).sum() > 8 * (hours == 3).sum()


def test_bad_profiles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="1 to"):
        generate(0)
    path = tmp_path / "profile.toml"
    path.write_text('hourly = [1, 2]\n[currencies.EUR]\nshare = 1\nmedian = "0.001"\n')
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "hourly" in message
    assert "currencies" in message

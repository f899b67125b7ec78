"""ISO 4217 currencies and the number of decimals in each one's minor unit.

The table holds every code on ISO 4217 List One that has a minor unit, as amended up to
2026-01 (Bulgaria's move to the euro). Codes with no minor unit ("N.A.": precious metals,
SDR, test and bond codes) are left out: they are never the currency of a card payment.
Withdrawn codes are left out too, so a payment in them fails validation instead of reaching
a provider that would refuse it: ANG (replaced by XCG, 2025), BGN (euro, 2026), CUC (2021),
HRK (euro, 2023), SLL (replaced by SLE), ZWL (replaced by ZWG, 2024), MRO, STD, VEF.

Providers sometimes disagree with ISO (Stripe treats MGA and UGX specially, ISK and HUF carry
two decimals on some wires but are integer-valued in practice). Those quirks belong to the
adapter's amount conversion, never to this table.
"""

from __future__ import annotations

from types import MappingProxyType

_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMAL = "CLF UYW"
_TWO_DECIMAL = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK "
    "LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO "
    "NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS "
    "SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST "
    "XCD XCG YER ZAR ZMW ZWG"
)


def _table() -> dict[str, int]:
    table: dict[str, int] = {}
    for codes, exponent in (
        (_ZERO_DECIMAL, 0),
        (_TWO_DECIMAL, 2),
        (_THREE_DECIMAL, 3),
        (_FOUR_DECIMAL, 4),
    ):
        for code in codes.split():
            table[code] = exponent
    return dict(sorted(table.items()))


EXPONENTS: MappingProxyType[str, int] = MappingProxyType(_table())
"""Currency code -> decimals of its minor unit (JPY 0, EUR 2, KWD 3, CLF 4)."""


def exponent(currency: str) -> int:
    """Decimals of `currency`'s minor unit; raises `UnknownCurrency` for anything not active."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


class UnknownCurrency(ValueError):
    """The code is not an active ISO 4217 currency with a minor unit."""

    def __init__(self, currency: object) -> None:
        self.currency = currency
        hint = ""
        if (
            isinstance(currency, str)
            and currency.upper() in EXPONENTS
            and currency != currency.upper()
        ):
            hint = f"; currency codes are upper case: {currency.upper()!r}"
        super().__init__(f"{currency!r} is not an active ISO 4217 currency code{hint}")

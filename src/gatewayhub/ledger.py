"""Double-entry postings for every money movement, in integer minor units.

Accounts, from the merchant's point of view (`{p}` is the provider account):

    authorizations:{p}        funds held on the customer's card at the provider (memo asset)
    authorization_holds       the offsetting commitment to those holds
    receivable:{p}            money the provider owes the merchant (captured - fees - refunds)
    sales                     gross captured sales (credit)
    refunds                   money given back (debit, contra-revenue)
    fees:{p}                  processing fees the provider keeps (expense)

A positive amount is a debit, a negative one a credit; every transaction sums to zero in its
one currency, which `Posting` checks when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass

HOLDS = "authorization_holds"
SALES = "sales"
REFUNDS = "refunds"


def authorizations(provider: str) -> str:
    """The hold account of `provider`."""
    return f"authorizations:{provider}"


def receivable(provider: str) -> str:
    """What `provider` owes the merchant."""
    return f"receivable:{provider}"


def fees(provider: str) -> str:
    """Fees kept by `provider`."""
    return f"fees:{provider}"


class UnbalancedPosting(ValueError):
    """A posting whose entries do not sum to zero."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One balanced ledger transaction."""

    kind: str
    currency: str
    entries: tuple[tuple[str, int], ...]
    refund_id: str | None = None

    def __post_init__(self) -> None:
        if sum(amount for _, amount in self.entries) != 0:
            raise UnbalancedPosting(f"{self.kind} does not balance: {self.entries}")


def _drop_zero(entries: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple((account, amount) for account, amount in entries if amount)


def authorization(provider: str, currency: str, amount: int) -> Posting:
    """Funds held by an authorization."""
    return Posting(
        "authorization", currency, ((authorizations(provider), amount), (HOLDS, -amount))
    )


def capture(provider: str, currency: str, captured: int, released: int, fee: int) -> Posting:
    """A capture: `released` of the hold is let go (the captured part and, on a final capture,
    the remainder); `captured` becomes receivable; the provider keeps `fee` of it."""
    return Posting(
        "capture",
        currency,
        _drop_zero(
            [
                (HOLDS, released),
                (authorizations(provider), -released),
                (receivable(provider), captured - fee),
                (SALES, -captured),
                (fees(provider), fee),
            ]
        ),
    )


def release(provider: str, currency: str, amount: int) -> Posting:
    """A void (or an expired authorization): the hold is let go."""
    return Posting("void", currency, ((HOLDS, amount), (authorizations(provider), -amount)))


def refund(
    provider: str, currency: str, amount: int, refund_id: str, fee_returned: int = 0
) -> Posting:
    """Money given back; some providers also return part of their fee."""
    return Posting(
        "refund",
        currency,
        _drop_zero(
            [
                (REFUNDS, amount),
                (receivable(provider), -amount + fee_returned),
                (fees(provider), -fee_returned),
            ]
        ),
        refund_id=refund_id,
    )

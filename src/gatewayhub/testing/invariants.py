"""The money invariants, checked between gatewayhub's books and the providers' own records.

`check_invariants(store, merchant, provider_charges)` reads every payment of a merchant with
its attempts and ledger, and compares them with what each provider says it did (its record,
as `ProviderCharge` values; the sandbox turns its `GET /_sandbox/charges` into them):

    provider charges known     every charge where money moved at a provider is the one
                               gatewayhub's payment records (account and reference)
    charged at most once       no payment has money moved at more than one charge
    captured <= authorized     and authorized <= amount, for every payment
    refunded <= captured       for every payment
    amounts agree              captured and refunded equal the provider's for the charge
    ledger balanced            every transaction sums to zero; per payment, sales equal
                               captured and refunds equal refunded
    outcomes resolved          no attempt is left with an unknown or pending outcome

Each check counts what it looked at, so a report says "held over 10,000 payments" rather than
"no violations" over nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gatewayhub.models import PaymentStatus
from gatewayhub.payment import OPEN_ATTEMPT, Payment
from gatewayhub.storage.store import Store

KNOWN = "provider charges known to gatewayhub"
ONCE = "no payment charged twice"
CAPTURED_LE_AUTHORIZED = "captured <= authorized <= amount"
REFUNDED_LE_CAPTURED = "refunded <= captured"
AMOUNTS_AGREE = "captured and refunded agree with the provider"
LEDGER = "ledger balanced (and agrees with each payment)"
RESOLVED = "every unknown outcome resolved"
# Statuses in which the customer's card is held or charged: the provider must show the charge.
_HOLDING = frozenset(
    {
        PaymentStatus.AUTHORIZED,
        PaymentStatus.PARTIALLY_CAPTURED,
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)
ORDER = (KNOWN, ONCE, CAPTURED_LE_AUTHORIZED, REFUNDED_LE_CAPTURED, AMOUNTS_AGREE, LEDGER, RESOLVED)


@dataclass(frozen=True, slots=True)
class ProviderCharge:
    """One charge as its provider records it (amounts in minor units)."""

    account: str
    charge_id: str
    payment_id: str | None  # the reference gatewayhub sent with it
    status: str
    moved: bool  # money held or taken (authorized, captured), now or before a refund
    captured: int
    refunded: int


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, about one payment or charge."""

    invariant: str
    subject: str
    detail: str


@dataclass
class InvariantReport:
    """How many subjects each invariant was checked on, and what broke."""

    checked: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)

    def fail(self, invariant: str, subject: str, detail: str) -> None:
        """Record a violation."""
        self.violations.append(Violation(invariant, subject, detail))

    @property
    def held(self) -> bool:
        """No violation at all."""
        return not self.violations

    def table(self) -> str:
        """A markdown table: invariant, checked over, violations."""
        broken = Counter(v.invariant for v in self.violations)
        lines = ["| invariant | checked over | violations |", "|---|---:|---:|"]
        lines += [f"| {name} | {self.checked[name]:,} | {broken[name]} |" for name in ORDER]
        return "\n".join(lines)


async def all_payments(store: Store, merchant_id: str, page: int = 500) -> list[Payment]:
    """Every payment of `merchant_id`, with attempts and refunds."""
    found: list[Payment] = []
    before: str | None = None
    while True:
        batch = await store.list_payments(merchant_id, limit=page, before=before)
        found += batch
        if len(batch) < page:
            return found
        before = batch[-1].id


async def check_invariants(
    store: Store, merchant_id: str, provider_charges: Iterable[ProviderCharge]
) -> InvariantReport:
    """Compare gatewayhub's payments and ledger with the providers' records."""
    report = InvariantReport()
    payments = {p.id: p for p in await all_payments(store, merchant_id)}
    charges = list(provider_charges)
    _check_charges(report, payments, charges)
    for payment in payments.values():
        _check_amounts(report, payment)
        report.checked[RESOLVED] += 1
        open_ = [a for a in payment.attempts if a.status in OPEN_ATTEMPT]
        if open_:
            report.fail(
                RESOLVED,
                payment.id,
                ", ".join(f"{a.operation.value} at {a.provider}: {a.status.value}" for a in open_),
            )
    report.checked[LEDGER] += 1
    for transaction in await store.unbalanced_transactions():
        report.fail(LEDGER, transaction, "entries do not sum to zero")
    for payment in payments.values():
        await _check_ledger(report, store, payment)
    return report


def _check_charges(
    report: InvariantReport, payments: dict[str, Payment], charges: Sequence[ProviderCharge]
) -> None:
    moved_by_payment: dict[str, list[ProviderCharge]] = defaultdict(list)
    for charge in charges:
        if not charge.moved:
            continue
        report.checked[KNOWN] += 1
        payment = payments.get(charge.payment_id or "")
        if payment is None:
            detail = f"{charge.account}: no payment {charge.payment_id}"
            report.fail(KNOWN, charge.charge_id, detail)
            continue
        moved_by_payment[payment.id].append(charge)
        if (payment.provider, payment.provider_reference) != (charge.account, charge.charge_id):
            report.fail(
                KNOWN,
                charge.charge_id,
                f"{charge.account} {charge.status}, but payment {payment.id} ({payment.status})"
                f" records {payment.provider}/{payment.provider_reference}",
            )
            continue
        report.checked[AMOUNTS_AGREE] += 1
        if (payment.captured, payment.refunded) != (charge.captured, charge.refunded):
            report.fail(
                AMOUNTS_AGREE,
                payment.id,
                f"gatewayhub captured {payment.captured} refunded {payment.refunded}; "
                f"{charge.account} captured {charge.captured} refunded {charge.refunded}",
            )
    for payment in payments.values():
        report.checked[ONCE] += 1
        moved = moved_by_payment.get(payment.id, [])
        if len(moved) > 1:
            report.fail(ONCE, payment.id, ", ".join(f"{c.account}/{c.charge_id}" for c in moved))
        if payment.status in _HOLDING and not moved:
            report.fail(
                KNOWN,
                payment.id,
                f"{payment.status}: authorized {payment.authorized} at {payment.provider}, "
                "which has no such charge",
            )


def _check_amounts(report: InvariantReport, payment: Payment) -> None:
    report.checked[CAPTURED_LE_AUTHORIZED] += 1
    if not 0 <= payment.captured <= payment.authorized <= payment.amount:
        report.fail(
            CAPTURED_LE_AUTHORIZED,
            payment.id,
            f"captured {payment.captured}, authorized {payment.authorized}, "
            f"amount {payment.amount}",
        )
    report.checked[REFUNDED_LE_CAPTURED] += 1
    if not 0 <= payment.refunded <= payment.captured:
        report.fail(
            REFUNDED_LE_CAPTURED,
            payment.id,
            f"refunded {payment.refunded}, captured {payment.captured}",
        )


async def _check_ledger(report: InvariantReport, store: Store, payment: Payment) -> None:
    report.checked[LEDGER] += 1
    entries = await store.ledger_entries(payment.id)
    sales = -sum(e["amount"] for e in entries if e["account"] == "sales")
    refunds = sum(e["amount"] for e in entries if e["account"] == "refunds")
    total = sum(e["amount"] for e in entries)
    if (total, sales, refunds) != (0, payment.captured, payment.refunded):
        report.fail(
            LEDGER,
            payment.id,
            f"entries sum to {total}; sales {sales} (captured {payment.captured}); "
            f"refunds {refunds} (refunded {payment.refunded})",
        )

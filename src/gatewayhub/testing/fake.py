"""A scriptable in-memory provider for tests of the core (no HTTP).

By default it approves everything; `script` queues outcomes per operation - results,
exceptions, or `charge_then(exception)` (the money moves, then the answer is lost). It keeps
a provider-side record keyed by idempotency key, so a replay of a charged key returns the
original result, exactly like a real provider with idempotency, and `charges` tells how many
times money really moved.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field

from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    CurrencyCode,
    PaymentResult,
    ProviderEvent,
    ProviderStatus,
    RefundCall,
    RefundResult,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.provider import Capabilities, Provider, ProviderSettings


class FakeSettings(ProviderSettings):
    """What the fake claims to support."""

    currencies: list[CurrencyCode] = Field(
        default_factory=lambda: ["EUR", "USD", "GBP", "JPY", "KWD"]
    )
    retrieve: bool = True
    retrieve_by_key: bool = True
    multiple_captures: bool = True


@dataclass(frozen=True)
class ChargeThen:
    """Scripted: record the charge at the provider, then fail with `error` anyway."""

    error: Exception


def charge_then(error: Exception) -> ChargeThen:
    """The provider charges, then the answer is lost (timeout after the charge)."""
    return ChargeThen(error)


Scripted = PaymentResult | RefundResult | Exception | ChargeThen | Callable[[Any], Any]


@dataclass
class _Charge:
    reference: str
    money: Money
    captured: int = 0
    refunded: int = 0
    status: ProviderStatus = ProviderStatus.AUTHORIZED
    results: dict[str, Any] = field(default_factory=dict)


class FakeProvider(Provider):
    """In-memory provider with a script."""

    name: ClassVar[str] = "fake"
    Settings: ClassVar[type[ProviderSettings]] = FakeSettings
    settings: FakeSettings

    def __init__(self, account: str, settings: ProviderSettings, http: Any) -> None:
        super().__init__(account, settings, http)
        self._script: dict[str, deque[Scripted]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.by_key: dict[str, _Charge] = {}
        self.events: list[ProviderEvent] = []

    @property
    def capabilities(self) -> Capabilities:
        """Everything, in the configured currencies."""
        return Capabilities(
            currencies=frozenset(self.settings.currencies),
            multiple_captures=self.settings.multiple_captures,
            retrieve=self.settings.retrieve,
            retrieve_by_key=self.settings.retrieve_by_key,
            idempotency_header="Idempotency-Key",
        )

    def script(self, operation: str, *outcomes: Scripted) -> None:
        """Queue outcomes for the next calls of `operation`."""
        self._script.setdefault(operation, deque()).extend(outcomes)

    @property
    def charges(self) -> int:
        """How many distinct authorizations really moved money here."""
        return len(self.by_key)

    def _next(self, operation: str, call: Any) -> Scripted | None:
        self.calls.append((operation, call))
        queue = self._script.get(operation)
        return queue.popleft() if queue else None

    def _charge(self, call: AuthorizeCall) -> PaymentResult:
        charge = self.by_key.get(call.key)
        if charge is None:
            charge = self.by_key[call.key] = _Charge(f"fake_{len(self.by_key) + 1}", call.money)
            if call.capture:
                charge.captured = call.money.amount
                charge.status = ProviderStatus.CAPTURED
        return PaymentResult(
            status=charge.status
            if charge.status is not ProviderStatus.CANCELED
            else ProviderStatus.CANCELED,
            provider_reference=charge.reference,
            money=charge.money,
            raw_status=charge.status.value,
        )

    def _resolve(self, scripted: Scripted | None, call: Any, default: Callable[[], Any]) -> Any:
        if scripted is None:
            return default()
        if isinstance(scripted, ChargeThen):
            default()
            raise scripted.error
        if isinstance(scripted, Exception):
            raise scripted
        if callable(scripted):
            return scripted(call)
        return scripted

    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """Follow the script (faults come before the provider's own logic), else approve;
        a key charged before returns the original charge."""
        result: PaymentResult = self._resolve(
            self._next("authorize", call), call, lambda: self._charge(call)
        )
        return result

    def _find(self, reference: str) -> _Charge | None:
        return next((c for c in self.by_key.values() if c.reference == reference), None)

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """Capture on the provider-side record."""

        def default() -> PaymentResult:
            charge = self._find(call.provider_reference)
            assert charge is not None, "capture of an unknown charge"
            if call.key not in charge.results:
                charge.captured += call.money.amount
                charge.status = ProviderStatus.CAPTURED
                charge.results[call.key] = True
            return PaymentResult(
                ProviderStatus.CAPTURED,
                charge.reference,
                captured=Money(charge.captured, charge.money.currency),
            )

        result: PaymentResult = self._resolve(self._next("capture", call), call, default)
        return result

    async def void(self, call: VoidCall) -> PaymentResult:
        """Cancel on the provider-side record."""

        def default() -> PaymentResult:
            charge = self._find(call.provider_reference)
            assert charge is not None, "void of an unknown charge"
            charge.status = ProviderStatus.CANCELED
            return PaymentResult(ProviderStatus.CANCELED, charge.reference)

        result: PaymentResult = self._resolve(self._next("void", call), call, default)
        return result

    async def refund(self, call: RefundCall) -> RefundResult:
        """Refund on the provider-side record."""

        def default() -> RefundResult:
            charge = self._find(call.provider_reference)
            assert charge is not None, "refund of an unknown charge"
            if call.key not in charge.results:
                charge.refunded += call.money.amount
                charge.results[call.key] = True
            return RefundResult(RefundStatus.SUCCEEDED, f"fakere_{call.key[:8]}", call.money)

        result: RefundResult = self._resolve(self._next("refund", call), call, default)
        return result

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """Look up by reference or key."""

        def default() -> PaymentResult:
            charge = (
                self._find(call.provider_reference)
                if call.provider_reference
                else self.by_key.get(call.key)
            )
            if charge is None:
                return PaymentResult(ProviderStatus.NOT_FOUND)
            currency = charge.money.currency
            return PaymentResult(
                charge.status,
                charge.reference,
                money=charge.money,
                captured=Money(charge.captured, currency),
                refunded=Money(charge.refunded, currency),
                raw_status=charge.status.value,
            )

        result: PaymentResult = self._resolve(self._next("retrieve", call), call, default)
        return result

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Fake webhooks are trusted (tests hand events in directly)."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """Hands out the events queued in `events`."""
        events, self.events = self.events, []
        return events

"""Random interleavings of every payment operation, fault and restart, with the money
invariants checked after each step against the sandbox emulators' own records.

Rules: authorize (approved, declined; manual or automatic capture), capture (whole or part,
final or not), void, refund (whole or part), the same request again with its idempotency key,
webhooks delivered in any order and duplicated, provider faults on the next call (errors and
dropped connections before and after the work: outcomes unknown), restarts (the Hub closed
and opened again on the same database; the emulators keep their state, as a provider does),
and reconciliation. The emulators run in process with a fixed clock, so nothing waits.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gatewayhub.config import parse_config
from gatewayhub.errors import GatewayError
from gatewayhub.hub import Hub
from gatewayhub.payment import OPEN_ATTEMPT
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub.testing.invariants import (
    AMOUNTS_AGREE,
    KNOWN,
    RESOLVED,
    InvariantReport,
    all_payments,
    check_invariants,
)
from gatewayhub_sandbox.faults import REQUEST_FAULTS, FaultPlan
from gatewayhub_sandbox.provider import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET, EmulatorTransport
from gatewayhub_sandbox.record import provider_charges
from gatewayhub_sandbox.server import Emulator, EmulatorConfig

ACCOUNTS = ("first", "second")
# Faults that need no waiting: slow and hanging answers would sleep for real.
FAULTS = [f for f in REQUEST_FAULTS if f not in ("slow", "timeout_after")]
fault_or_none = st.none() | st.sampled_from(FAULTS)
fraction = st.integers(min_value=1, max_value=100)


class PaymentMachine(RuleBasedStateMachine):
    """One merchant's payments over two sandbox accounts, on one database."""

    payments = Bundle("payments")

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock()
        # Examples share the database: each is its own merchant, with its own id stream (one
        # for the whole example: a restarted Hub must not make the same ids again).
        namespace = uuid.uuid4()
        self.merchant = f"m{namespace.hex[:16]}"
        self.rng = random.Random(namespace.int)
        self.webhooks: list[tuple[str, dict[str, str], bytes]] = []
        self.emulators = {name: self._emulator(name) for name in ACCOUNTS}
        self.config = parse_config(
            {
                "gateway": {"database_url": database_url},
                "retry": {"tries_per_attempt": 2, "backoff_initial": 0.01, "retrieve_tries": 1},
                "providers": {
                    name: {
                        "type": "sandbox",
                        "priority": index,
                        "settings": {
                            "base_url": f"http://{name}.test",
                            "currencies": ["EUR"],
                            "webhook_tolerance": 10**7,
                        },
                    }
                    for index, name in enumerate(ACCOUNTS, start=1)
                },
            }
        )
        self.requests: dict[str, dict[str, Any]] = {}
        self.hub = self._open()

    def _emulator(self, name: str) -> Emulator:
        async def hold(headers: Mapping[str, str], body: bytes) -> None:
            self.webhooks.append((name, dict(headers), body))

        return Emulator(
            EmulatorConfig(
                name=name,
                api_key=LOCAL_API_KEY,
                webhook_secret=LOCAL_WEBHOOK_SECRET,
                currencies=frozenset({"EUR"}),
            ),
            clock=self.clock,
            deliver=hold,
        )

    def _open(self) -> Hub:
        hub = Hub(
            self.config,
            merchant_id=self.merchant,
            clock=self.clock,
            rng=self.rng,
            transports={n: EmulatorTransport(e) for n, e in self.emulators.items()},
            background=False,
        )
        self.run(hub.start())
        return hub

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _call(self, fault: str | None, operation: Any) -> Any:
        """Run `operation` with `fault` on every emulator's calls; gateway errors are results."""
        plan = FaultPlan(**{fault: 1.0}) if fault else FaultPlan()
        for emulator in self.emulators.values():
            emulator.faults.install(plan, self.clock.monotonic())
        try:
            return await operation
        except GatewayError as exc:
            return exc
        finally:
            for emulator in self.emulators.values():
                emulator.faults.install(FaultPlan(), self.clock.monotonic())
                await emulator.drain()

    # -- rules ----------------------------------------------------------------------------

    @initialize()
    def nothing_yet(self) -> None:
        pass

    @rule(
        target=payments,
        amount=st.integers(min_value=1, max_value=100_000),
        manual=st.booleans(),
        declined=st.booleans(),
        fault=fault_or_none,
    )
    def authorize(self, amount: int, manual: bool, declined: bool, fault: str | None) -> str:
        key = f"order-{len(self.requests)}"
        request = {
            "amount": amount,
            "currency": "EUR",
            "payment_method": "tok_decline_do_not_honor" if declined else "tok_visa",
            "capture": "manual" if manual else "automatic",
        }
        answer = self.run(self._call(fault, self.hub.authorize(**request, idempotency_key=key)))
        assert not isinstance(answer, GatewayError), answer
        self.requests[answer.id] = {"key": key, **request}
        return str(answer.id)

    @rule(payment=payments)
    def authorize_again(self, payment: str) -> None:
        request = dict(self.requests[payment])
        key = request.pop("key")
        answer = self.run(self._call(None, self.hub.authorize(**request, idempotency_key=key)))
        assert isinstance(answer, GatewayError) or answer.id == payment

    @rule(payment=payments, part=fraction, final=st.booleans(), fault=fault_or_none)
    def capture(self, payment: str, part: int, final: bool, fault: str | None) -> None:
        amount = max(1, self.requests[payment]["amount"] * part // 100)
        key = f"{payment}-capture-{amount}-{final}"
        self.run(
            self._call(fault, self.hub.capture(payment, amount, final=final, idempotency_key=key))
        )
        # The same request again: answered from the key, never captured twice.
        self.run(
            self._call(None, self.hub.capture(payment, amount, final=final, idempotency_key=key))
        )

    @rule(payment=payments, fault=fault_or_none)
    def void(self, payment: str, fault: str | None) -> None:
        self.run(self._call(fault, self.hub.void(payment, idempotency_key=f"{payment}-void")))

    @rule(payment=payments, part=fraction, fault=fault_or_none, again=st.booleans())
    def refund(self, payment: str, part: int, fault: str | None, again: bool) -> None:
        amount = max(1, self.requests[payment]["amount"] * part // 200)
        key = f"{payment}-refund-{len(self.webhooks)}-{amount}"
        self.run(self._call(fault, self.hub.refund(payment, amount, idempotency_key=key)))
        if again:
            self.run(self._call(None, self.hub.refund(payment, amount, idempotency_key=key)))

    @rule(order=st.randoms(use_true_random=False), duplicate=st.booleans())
    def deliver_webhooks(self, order: random.Random, duplicate: bool) -> None:
        batch, self.webhooks = self.webhooks, []
        if duplicate:
            batch += order.sample(batch, len(batch) // 2)
        order.shuffle(batch)
        self.run(self._deliver(batch))

    async def _deliver(self, batch: list[tuple[str, dict[str, str], bytes]]) -> None:
        for account, headers, body in batch:
            try:
                await self.hub.handle_webhook(account, headers, body)
            except WebhookVerificationError as exc:
                raise AssertionError(f"the emulator's own webhook was refused: {exc}") from exc
        await self.hub.process_webhooks()

    @rule()
    def restart(self) -> None:
        self.run(self.hub.close())
        self.hub = self._open()

    @rule()
    def reconcile(self) -> None:
        self.clock.advance(60)
        self.run(self._call(None, self.hub.reconcile()))

    # -- invariants -----------------------------------------------------------------------

    def _report(self) -> InvariantReport:
        charges = [
            charge
            for name, emulator in self.emulators.items()
            for charge in provider_charges(
                name, {"charges": [c.wire() for c in emulator.charges.values()]}
            )
        ]
        return self.run(check_invariants(self.hub.store, self.merchant, charges))

    @invariant()
    def money_adds_up(self) -> None:
        """After every step: nothing charged twice, amounts in order, books balanced; and
        gatewayhub agrees with the providers on every payment with no outcome pending."""
        report = self._report()
        unsettled = {
            p.id
            for p in self.run(all_payments(self.hub.store, self.merchant))
            if any(a.status in OPEN_ATTEMPT for a in p.attempts)
        }
        pending_charges = {
            c.id
            for e in self.emulators.values()
            for c in e.charges.values()
            if c.reference in unsettled
        }
        broken = [
            v
            for v in report.violations
            if not (
                v.invariant == RESOLVED
                or (
                    v.invariant in (KNOWN, AMOUNTS_AGREE)
                    and (v.subject in unsettled or v.subject in pending_charges)
                )
            )
        ]
        assert not broken, broken

    def teardown(self) -> None:
        try:
            # Faults off, every webhook in, the reconciler run: now everything must agree.
            for _ in range(3):
                self.reconcile()
                self.deliver_webhooks(random.Random(0), duplicate=False)
            report = self._report()
            assert report.held, report.violations
        finally:
            self.run(self.hub.close())
            self.loop.close()


def _run(database_url: str, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: PaymentMachine(database_url),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            # A failure prints its steps; shrinking them can take minutes on a database.
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_payment_state_machine_on_sqlite(sqlite_url: str) -> None:
    _run(sqlite_url, examples=25, steps=25)


@pytest.mark.postgres
def test_payment_state_machine_on_postgres(postgres_url: str) -> None:
    _run(postgres_url, examples=6, steps=20)

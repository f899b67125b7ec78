"""The contract every provider adapter passes.

An adapter's tests subclass `ProviderContract` and provide a `harness` fixture: an object
that builds the adapter on a mocked transport (respx with verbatim fixtures, or an emulator),
arranges the provider's answer for a named scenario, and shows what was sent. The suite then
checks the behaviour the core relies on; scenarios an adapter cannot have (by its declared
capabilities or its `scenarios` set) are skipped with the reason.

Expected values come from the harness (written by hand from the provider's documents),
never from the adapter under test.

Scenarios a harness may support:
    authorize: approved, approved_manual, requires_action, unknown_status, malformed,
               amount_mismatch, connect_error, read_timeout, server_error, rate_limited,
               auth_failed, and "decline:<name>" for every entry of `decline_cases`
    capture: captured        void: voided        refund: refunded
    retrieve: found, not_found
    webhooks (via `webhook`): valid, tampered, wrong_secret, missing_header, expired,
               rotated, batched, unknown_type
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

import httpx
import pytest

from gatewayhub.errors import DeclineCode, IntegrityError, NotSent, OutcomeUnknown
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    EventKind,
    PaymentMethod,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.provider import Provider, WebhookVerificationError, check_echo


class ContractHarness(Protocol):
    """What an adapter's tests give the contract suite."""

    provider: Provider
    scenarios: frozenset[str]
    decline_cases: Mapping[str, DeclineCode]
    # (amount, what the provider's wire carries for it): written from the provider's docs
    amount_cases: Sequence[tuple[Money, Any]]
    # the account's secrets, which must never appear in reprs, errors or logs
    secrets: Sequence[str]
    default_money: Money

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        """Make the provider answer the next `operation` call as in `scenario`."""
        ...

    def token(self, scenario: str) -> str:
        """The payment method token to send for `scenario`."""
        ...

    def requests(self) -> list[httpx.Request]:
        """Requests sent since the last `arrange`."""
        ...

    def amount_on_wire(self, request: httpx.Request) -> Any:
        """The amount as it appears in an authorize request."""
        ...

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a webhook for `scenario`."""
        ...

    async def reference_for(self, operation: str) -> str:
        """The provider reference of a payment `operation` can apply to: an authorization for
        capture, void and retrieve; a captured payment for refund."""
        ...


def _needs(harness: ContractHarness, scenario: str) -> None:
    if scenario not in harness.scenarios:
        pytest.skip(f"the adapter's harness does not provide {scenario!r}")


class ProviderContract:
    """Subclass as `TestXContract` and override the `harness` fixture."""

    payment_id: ClassVar[str] = "pay_01CONTRACT0000000000000000"

    @pytest.fixture
    def harness(self) -> ContractHarness:
        """Override in the adapter's test module."""
        raise NotImplementedError("provide a harness fixture")

    def call(
        self,
        harness: ContractHarness,
        scenario: str,
        *,
        money: Money | None = None,
        capture: bool = True,
        key: str | None = None,
    ) -> AuthorizeCall:
        """An authorize call for `scenario`, with a fresh idempotency key unless given one."""
        token = harness.token(scenario)
        return AuthorizeCall(
            payment_id=self.payment_id,
            key=key or str(uuid.uuid4()),
            money=money or harness.default_money,
            capture=capture,
            method=PaymentMethod(token=token),
            token=token,
            reference="order-1001",
            description="contract test",
            return_url="https://shop.example/return",
        )

    # -- authorize ----------------------------------------------------------------------------

    async def test_approves(self, harness: ContractHarness) -> None:
        _needs(harness, "approved")
        call = self.call(harness, "approved")
        harness.arrange("authorize", "approved", call)
        result = await harness.provider.authorize(call)
        assert result.status in (ProviderStatus.CAPTURED, ProviderStatus.AUTHORIZED)
        assert result.provider_reference
        check_echo(call.money, result, harness.provider.account)

    async def test_authorizes_for_manual_capture(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.manual_capture:
            pytest.skip("no manual capture")
        _needs(harness, "approved_manual")
        call = self.call(harness, "approved_manual", capture=False)
        harness.arrange("authorize", "approved_manual", call)
        result = await harness.provider.authorize(call)
        assert result.status is ProviderStatus.AUTHORIZED

    async def test_declines_map_to_canonical_codes(self, harness: ContractHarness) -> None:
        if not harness.decline_cases:
            pytest.skip("no decline cases")
        for name, expected in harness.decline_cases.items():
            scenario = f"decline:{name}"
            call = self.call(harness, scenario)
            harness.arrange("authorize", scenario, call)
            result = await harness.provider.authorize(call)
            assert result.status is ProviderStatus.DECLINED, name
            assert result.decline is not None, name
            assert result.decline.code is expected, f"{name}: {result.decline.code} != {expected}"
            assert result.decline.provider_code, name

    async def test_requires_action_carries_next_step(self, harness: ContractHarness) -> None:
        _needs(harness, "requires_action")
        call = self.call(harness, "requires_action")
        harness.arrange("authorize", "requires_action", call)
        result = await harness.provider.authorize(call)
        assert result.status is ProviderStatus.REQUIRES_ACTION
        assert result.next_action is not None
        assert result.next_action.url or result.next_action.data

    async def test_unknown_status_is_pending(self, harness: ContractHarness) -> None:
        _needs(harness, "unknown_status")
        call = self.call(harness, "unknown_status")
        harness.arrange("authorize", "unknown_status", call)
        result = await harness.provider.authorize(call)
        assert result.status is ProviderStatus.PENDING

    async def test_malformed_answer_is_outcome_unknown(self, harness: ContractHarness) -> None:
        _needs(harness, "malformed")
        call = self.call(harness, "malformed")
        harness.arrange("authorize", "malformed", call)
        with pytest.raises(OutcomeUnknown):
            await harness.provider.authorize(call)

    async def test_echoed_amount_mismatch_is_caught(self, harness: ContractHarness) -> None:
        _needs(harness, "amount_mismatch")
        call = self.call(harness, "amount_mismatch")
        harness.arrange("authorize", "amount_mismatch", call)
        try:
            result = await harness.provider.authorize(call)
        except IntegrityError:
            return
        with pytest.raises(IntegrityError):
            check_echo(call.money, result, harness.provider.account)

    async def test_idempotency_key_sent_and_reused(self, harness: ContractHarness) -> None:
        header = harness.provider.capabilities.idempotency_header
        if header is None:
            pytest.skip("the provider has no idempotency header")
        # Providers whose payments always wait for the customer have no "approved" answer.
        scenario = "approved" if "approved" in harness.scenarios else "requires_action"
        _needs(harness, scenario)
        call = self.call(harness, scenario)
        keys: list[str | None] = []
        for _ in range(2):
            harness.arrange("authorize", scenario, call)
            await harness.provider.authorize(call)
            keys.extend(r.headers.get(header) for r in harness.requests() if r.method == "POST")
        assert keys, "no POST was sent"
        assert set(keys) == {call.key}

    @pytest.mark.parametrize(
        ("scenario", "error"),
        [
            ("connect_error", NotSent),
            ("read_timeout", OutcomeUnknown),
            ("server_error", OutcomeUnknown),
            ("rate_limited", NotSent),
            ("auth_failed", NotSent),
        ],
    )
    async def test_failures_are_classified(
        self, harness: ContractHarness, scenario: str, error: type[Exception]
    ) -> None:
        _needs(harness, scenario)
        call = self.call(harness, scenario)
        harness.arrange("authorize", scenario, call)
        with pytest.raises(error) as raised:
            await harness.provider.authorize(call)
        if scenario == "connect_error":
            assert not isinstance(raised.value, OutcomeUnknown)
        if scenario == "auth_failed":
            assert raised.value.decline_code is DeclineCode.PROVIDER_AUTH_FAILED  # type: ignore[attr-defined]
        if scenario == "rate_limited":
            assert raised.value.decline_code is DeclineCode.RATE_LIMITED  # type: ignore[attr-defined]

    async def test_amounts_on_the_wire(self, harness: ContractHarness) -> None:
        if not harness.amount_cases:
            pytest.skip("no amount cases")
        exponents = {money.exponent for money, _ in harness.amount_cases}
        for money, expected in harness.amount_cases:
            if money.currency not in harness.provider.capabilities.currencies:
                continue
            call = self.call(harness, "approved", money=money)
            harness.arrange("authorize", "approved", call)
            await harness.provider.authorize(call)
            posts = [r for r in harness.requests() if r.method == "POST"]
            assert posts, f"nothing sent for {money}"
            assert harness.amount_on_wire(posts[-1]) == expected, str(money)
        assert exponents & {0, 2}, "amount cases must cover 0- and 2-decimal currencies"

    # -- modifications ------------------------------------------------------------------------

    async def test_capture(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.manual_capture:
            pytest.skip("no separate capture")
        _needs(harness, "captured")
        reference = await harness.reference_for("capture")
        call = CaptureCall(self.payment_id, "2a0e-capture-key", reference, harness.default_money)
        harness.arrange("capture", "captured", call)
        result = await harness.provider.capture(call)
        assert result.status in (ProviderStatus.CAPTURED, ProviderStatus.PENDING)

    async def test_void(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.void:
            pytest.skip("no void")
        _needs(harness, "voided")
        reference = await harness.reference_for("void")
        call = VoidCall(self.payment_id, "2a0e-void-key", reference, harness.default_money)
        harness.arrange("void", "voided", call)
        result = await harness.provider.void(call)
        assert result.status in (ProviderStatus.CANCELED, ProviderStatus.PENDING)

    async def test_refund(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.refund:
            pytest.skip("no refunds")
        _needs(harness, "refunded")
        reference = await harness.reference_for("refund")
        call = RefundCall(
            self.payment_id, "rfd_01CONTRACT", "2a0e-refund-key", reference, harness.default_money
        )
        harness.arrange("refund", "refunded", call)
        result = await harness.provider.refund(call)
        assert result.status in (RefundStatus.SUCCEEDED, RefundStatus.PENDING)
        assert result.provider_reference

    async def test_retrieve(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.retrieve:
            pytest.skip("the provider has no lookup; webhooks settle unknown outcomes")
        _needs(harness, "found")
        reference = await harness.reference_for("retrieve")
        call = RetrieveCall(self.payment_id, "2a0e-lookup", harness.default_money, reference)
        harness.arrange("retrieve", "found", call)
        result = await harness.provider.retrieve(call)
        assert result.status is not ProviderStatus.NOT_FOUND
        assert result.provider_reference == reference

    async def test_retrieve_missing(self, harness: ContractHarness) -> None:
        if not harness.provider.capabilities.retrieve:
            pytest.skip("no lookup")
        _needs(harness, "not_found")
        call = RetrieveCall(self.payment_id, "never-sent-key", harness.default_money, None)
        harness.arrange("retrieve", "not_found", call)
        result = await harness.provider.retrieve(call)
        assert result.status is ProviderStatus.NOT_FOUND

    # -- webhooks -----------------------------------------------------------------------------

    async def test_webhook_valid(self, harness: ContractHarness) -> None:
        _needs(harness, "valid")
        headers, body = harness.webhook("valid")
        await harness.provider.verify_webhook_async(headers, body)
        events = harness.provider.parse_webhook(headers, body)
        assert events
        assert all(e.event_id for e in events)
        assert harness.provider.webhook_ack(events).status_code < 300

    @pytest.mark.parametrize("scenario", ["tampered", "wrong_secret", "missing_header", "expired"])
    async def test_webhook_rejected(self, harness: ContractHarness, scenario: str) -> None:
        _needs(harness, scenario)
        headers, body = harness.webhook(scenario)
        with pytest.raises(WebhookVerificationError):
            await harness.provider.verify_webhook_async(headers, body)

    async def test_webhook_rotated_secret(self, harness: ContractHarness) -> None:
        _needs(harness, "rotated")
        headers, body = harness.webhook("rotated")
        await harness.provider.verify_webhook_async(headers, body)

    async def test_webhook_batched(self, harness: ContractHarness) -> None:
        _needs(harness, "batched")
        headers, body = harness.webhook("batched")
        await harness.provider.verify_webhook_async(headers, body)
        events = harness.provider.parse_webhook(headers, body)
        assert len(events) > 1
        assert len({e.event_id for e in events}) == len(events)

    async def test_webhook_unknown_type(self, harness: ContractHarness) -> None:
        _needs(harness, "unknown_type")
        headers, body = harness.webhook("unknown_type")
        await harness.provider.verify_webhook_async(headers, body)
        events = harness.provider.parse_webhook(headers, body)
        assert all(e.kind is EventKind.UNHANDLED for e in events)

    # -- secrets ------------------------------------------------------------------------------

    async def test_no_secret_in_repr_errors_or_logs(
        self, harness: ContractHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        texts = [
            repr(harness.provider),
            repr(harness.provider.settings),
            str(harness.provider.settings),
        ]
        for scenario in ("approved", "auth_failed", "server_error", "malformed"):
            if scenario not in harness.scenarios:
                continue
            call = self.call(harness, scenario)
            harness.arrange("authorize", scenario, call)
            try:
                await harness.provider.authorize(call)
            except Exception as exc:  # every error's text is inspected below
                texts.append(str(exc))
                texts.append(repr(exc))
        texts.append(caplog.text)
        for secret in harness.secrets:
            for text in texts:
                assert secret not in text

"""The payment state machine and the aggregate's money rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatewayhub import lifecycle
from gatewayhub.errors import Decision, Decline, DeclineCode, InvalidState
from gatewayhub.ledger import Posting, UnbalancedPosting
from gatewayhub.models import (
    AttemptStatus,
    CaptureMode,
    EventKind,
    Operation,
    PaymentMethodType,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    ProviderStatus,
    RefundResult,
    RefundStatus,
)
from gatewayhub.money import Money
from gatewayhub.payment import Payment

S = PaymentStatus
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# How far along a payment is. Waiting states share a rank: a lookup may say "the customer
# must act" after a timeout, and a customer's action may leave the provider still deciding.
RANK = {
    S.PENDING: 0,
    S.PROCESSING: 1,
    S.REQUIRES_ACTION: 1,
    S.AUTHORIZED: 2,
    S.PARTIALLY_CAPTURED: 3,
    S.CAPTURED: 4,
    S.PARTIALLY_REFUNDED: 5,
    S.REFUNDED: 6,
    S.CANCELED: 7,
    S.FAILED: 7,
}


def fee(account: str, amount: int) -> int:
    return 30


def payment(capture: CaptureMode = CaptureMode.MANUAL, amount: int = 1000) -> Payment:
    return Payment(
        id="pay_1",
        merchant_id="m",
        status=S.PENDING,
        amount=amount,
        currency="EUR",
        capture_mode=capture,
        method_type=PaymentMethodType.CARD,
        created_at=NOW,
        updated_at=NOW,
    )


def authorized(amount: int = 1000) -> Payment:
    p = payment(amount=amount)
    attempt = p.start_attempt(Operation.AUTHORIZE, "a", amount, NOW, "att_1")
    p.record_authorization(
        attempt, PaymentResult(ProviderStatus.AUTHORIZED, "ref_1", Money(amount, "EUR")), NOW, fee
    )
    return p


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (S.PENDING, S.AUTHORIZED, True),
        (S.PENDING, S.CAPTURED, True),
        (S.PROCESSING, S.CAPTURED, True),
        (S.REQUIRES_ACTION, S.AUTHORIZED, True),
        (S.AUTHORIZED, S.CAPTURED, True),
        (S.AUTHORIZED, S.CANCELED, True),
        (S.CAPTURED, S.PARTIALLY_REFUNDED, True),
        (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED, True),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, True),
        (S.CAPTURED, S.AUTHORIZED, False),
        (S.CAPTURED, S.CANCELED, False),
        (S.REFUNDED, S.CAPTURED, False),
        (S.FAILED, S.AUTHORIZED, False),
        (S.CANCELED, S.CAPTURED, False),
        (S.AUTHORIZED, S.REFUNDED, False),
        (S.PENDING, S.REFUNDED, False),
    ],
)
def test_transitions(current: S, target: S, ok: bool) -> None:
    assert lifecycle.allowed(current, target) is ok


def test_terminal_statuses_have_no_way_out() -> None:
    terminal = {s for s in S if not any(lifecycle.allowed(s, t) for t in S)}
    assert terminal == {S.REFUNDED, S.CANCELED, S.FAILED}


@given(st.lists(st.sampled_from(list(S)), max_size=30))
def test_any_walk_only_moves_forward(targets: list[S]) -> None:
    status = S.PENDING
    for target in targets:
        if target != status and lifecycle.allowed(status, target):
            assert RANK[target] >= RANK[status], (status, target)
            status = target
    if status in (S.REFUNDED, S.CANCELED, S.FAILED):
        assert not any(lifecycle.allowed(status, t) for t in S)


def test_capture_refund_bounds() -> None:
    p = authorized()
    with pytest.raises(InvalidState, match="remains"):
        p.check_capture(1001)
    attempt = p.start_attempt(Operation.CAPTURE, "a", 600, NOW, "att_2")
    p.record_capture(attempt, PaymentResult(ProviderStatus.CAPTURED, "ref_1"), NOW, fee)
    assert (p.status, p.captured) == (S.CAPTURED, 600)
    with pytest.raises(InvalidState, match="refundable"):
        p.check_refund(601)
    first = p.start_refund("rfd_1", 400, None, NOW)
    with pytest.raises(InvalidState, match="refundable"):
        p.check_refund(201)  # 200 remain: the pending 400 is reserved
    p.record_refund(first, None, RefundResult(RefundStatus.SUCCEEDED, "re_1"), NOW)
    assert (p.status, p.refunded) == (S.PARTIALLY_REFUNDED, 400)


def test_a_repeated_answer_changes_nothing() -> None:
    p = authorized()
    attempt = p.attempts[0]
    before = (p.status, p.authorized, len(p.changes.postings))
    p.record_authorization(attempt, PaymentResult(ProviderStatus.AUTHORIZED, "ref_1"), NOW, fee)
    assert (p.status, p.authorized, len(p.changes.postings)) == before


def test_stale_and_duplicate_webhooks_are_ignored() -> None:
    p = payment(capture=CaptureMode.AUTOMATIC)
    p.start_attempt(Operation.AUTHORIZE, "a", 1000, NOW, "att_1")
    captured = ProviderEvent(
        "evt_2",
        EventKind.CAPTURED,
        "charge.captured",
        provider_reference="ref_1",
        money=Money(1000, "EUR"),
        captured=Money(1000, "EUR"),
    )
    authorized_late = ProviderEvent(
        "evt_1", EventKind.AUTHORIZED, "charge.authorized", provider_reference="ref_1"
    )
    assert p.apply_event(captured, NOW, fee) is True
    assert p.status is S.CAPTURED
    assert p.apply_event(authorized_late, NOW, fee) is False  # arrived late: ignored
    assert p.apply_event(captured, NOW, fee) is False  # duplicate: ignored
    assert (p.captured, p.authorized) == (1000, 1000)


def test_failure_event_on_a_waiting_payment() -> None:
    p = payment()
    p.start_attempt(Operation.AUTHORIZE, "a", 1000, NOW, "att_1")
    decline = Decline(DeclineCode.AUTHENTICATION_REQUIRED, Decision.FINAL, "authentication_failed")
    event = ProviderEvent(
        "evt_1", EventKind.FAILED, "charge.failed", attempt_key=p.attempts[0].key, decline=decline
    )
    assert p.apply_event(event, NOW, fee) is True
    assert p.status is S.FAILED
    assert p.attempts[0].status is AttemptStatus.DECLINED


def test_postings_must_balance() -> None:
    with pytest.raises(UnbalancedPosting):
        Posting("capture", "EUR", (("sales", -100), ("receivable:a", 99)))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["capture", "refund", "event_capture", "void"]), st.integers(1, 1200)
        ),
        max_size=12,
    )
)
def test_money_invariants_hold_under_any_sequence(steps: list[tuple[str, int]]) -> None:
    p = authorized()
    for n, (kind, asked) in enumerate(steps):
        try:
            if kind == "capture":
                amount = p.check_capture(asked)
                attempt = p.start_attempt(
                    Operation.CAPTURE, "a", amount, NOW, f"att_c{n}", final=False
                )
                p.record_capture(attempt, PaymentResult(ProviderStatus.CAPTURED, "ref_1"), NOW, fee)
            elif kind == "refund":
                amount = p.check_refund(asked)
                refund = p.start_refund(f"rfd_{n}", amount, None, NOW)
                p.record_refund(refund, None, RefundResult(RefundStatus.SUCCEEDED, f"re_{n}"), NOW)
            elif kind == "void":
                p.check_void()
                attempt = p.start_attempt(Operation.VOID, "a", p.authorized, NOW, f"att_v{n}")
                p.record_void(attempt, PaymentResult(ProviderStatus.CANCELED, "ref_1"), NOW)
            else:
                event = ProviderEvent(
                    f"evt_{n}",
                    EventKind.CAPTURED,
                    "x",
                    provider_reference="ref_1",
                    captured=Money(min(asked, 1000), "EUR"),
                )
                p.apply_event(event, NOW, fee)
        except InvalidState:
            pass
        assert 0 <= p.refunded <= p.captured <= p.authorized <= p.amount
    totals: dict[str, int] = {}
    for posting in p.changes.postings:
        for account, value in posting.entries:
            totals[account] = totals.get(account, 0) + value
    assert sum(totals.values()) == 0
    assert -totals.get("sales", 0) == p.captured
    assert totals.get("refunds", 0) == p.refunded


def test_a_capture_event_with_the_authorization_key_is_an_external_capture() -> None:
    p = authorized()
    event = ProviderEvent(
        "evt_c",
        EventKind.CAPTURED,
        "charge.captured",
        attempt_key=p.attempts[0].key,
        provider_reference="ref_1",
        captured=Money(400, "EUR"),
    )
    assert p.apply_event(event, NOW, fee) is True
    assert (p.status, p.captured) == (S.CAPTURED, 400)
    assert "capture.external" in [e.type for e in p.changes.events]


def test_money_reported_for_a_closed_payment_is_a_discrepancy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = payment()
    attempt = p.start_attempt(Operation.AUTHORIZE, "a", 1000, NOW, "att_1")
    p.record_authorization(
        attempt,
        PaymentResult(
            ProviderStatus.DECLINED,
            "ref_1",
            decline=Decline(DeclineCode.DO_NOT_HONOR, Decision.FINAL, "05"),
        ),
        NOW,
        fee,
    )
    p.fail(Decline(DeclineCode.DO_NOT_HONOR, Decision.FINAL, "05"), NOW)
    late = ProviderEvent("evt_x", EventKind.CAPTURED, "charge.captured", provider_reference="ref_1")
    p.apply_event(late, NOW, fee)
    assert p.status is S.FAILED
    assert "payment.discrepancy" in [e.type for e in p.changes.events]
    assert "reports charge.captured" in caplog.text

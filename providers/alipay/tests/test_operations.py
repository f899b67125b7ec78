"""Every Alipay operation on respx: what is sent (method, parameters, signature) and how each
answer and each transport failure is read."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from pydantic import SecretStr, ValidationError

from gatewayhub.errors import Decision, DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.models import (
    AuthorizeCall,
    PaymentMethod,
    ProviderStatus,
    RefundCall,
    RefundStatus,
    RetrieveCall,
    VoidCall,
)
from gatewayhub.money import Money
from gatewayhub.testing import FixedClock
from gatewayhub.testing.faults import TRANSPORT_FAILURES
from gatewayhub_alipay.provider import LIVE_GATEWAY, SANDBOX_GATEWAY, AlipayProvider

from .harness import (
    APP_ID,
    FIXTURES,
    REFERENCE,
    answer,
    biz,
    build,
    form,
    method_of,
    settings,
    vector,
)

KEY = "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
REFUND_KEY = "0b7d3c5e-8f6a-4e2d-9c1b-0a9f8e7d6c5b"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 20:00:00 in Beijing
CNY_25 = Money(2500, "CNY")


def authorize_call(
    token: str, money: Money = CNY_25, started_at: datetime | None = None
) -> AuthorizeCall:
    return AuthorizeCall(
        payment_id="pay_1",
        key=KEY,
        money=money,
        capture=True,
        method=PaymentMethod(type="alipay", token=token),
        token=token,
        reference="order-1001",
        description="订单 order-1001",
        return_url="https://shop.example/return",
        started_at=started_at,
    )


def verifies(params: dict[str, str]) -> bool:
    """Alipay's check of a request signature, written out from the docs with the app's
    public key (what Alipay holds)."""
    content = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k])
    key = serialization.load_pem_public_key(vector("alipay_fzlee_test_app_public_key.pem"))
    try:
        key.verify(  # type: ignore[union-attr]
            base64.b64decode(params["sign"]), content.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


def sent(request: httpx.Request) -> dict[str, str]:
    """All parameters of a gateway POST: the query and the form body."""
    return {**dict(request.url.params), **form(request.content)}


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def provider(router: respx.MockRouter, clock: FixedClock) -> AsyncIterator[AlipayProvider]:
    adapter, client = build(clock)
    yield adapter
    await client.aclose()


# -- authorize ------------------------------------------------------------------------------------


async def test_qr_payment_is_precreated(router: respx.MockRouter, provider: AlipayProvider) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer("precreate/qr_code.json"))
    result = await provider.authorize(authorize_call("qr"))
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.provider_reference == "6f1c2a340d555b7e9a412f2a7c0f1e01"
    assert result.next_action is not None
    assert result.next_action.type == "display_qr"
    assert result.next_action.data == {"qr_code": "https://qr.alipay.com/bavh4wjlxf12tper3a"}
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    params = sent(request)
    assert params["method"] == "alipay.trade.precreate"
    assert {k: params[k] for k in ("app_id", "format", "charset", "sign_type", "version")} == {
        "app_id": APP_ID,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "version": "1.0",
    }
    assert params["timestamp"] == "2026-11-24 20:00:00"
    assert params["notify_url"] == "https://shop.example/alipay/notify"
    assert "return_url" not in params
    assert biz(request) == {
        "out_trade_no": "6f1c2a340d555b7e9a412f2a7c0f1e01",
        "total_amount": "25.00",
        "subject": "订单 order-1001",
        "timeout_express": "15m",
    }
    assert verifies(params)


@pytest.mark.parametrize(
    ("token", "method", "product_code"),
    [
        ("page", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
        ("wap", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    ],
)
async def test_redirect_payment_is_a_signed_cashier_url(
    provider: AlipayProvider, token: str, method: str, product_code: str
) -> None:
    started = datetime(2026, 11, 24, 11, 58, 30, tzinfo=UTC)
    result = await provider.authorize(authorize_call(token, started_at=started))
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.next_action is not None
    assert result.next_action.type == "redirect"
    url = result.next_action.url
    assert url is not None
    assert url.startswith(LIVE_GATEWAY + "?")
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params["method"] == method
    assert params["return_url"] == "https://shop.example/return"
    assert params["notify_url"] == "https://shop.example/alipay/notify"
    assert params["timestamp"] == "2026-11-24 20:00:00"
    content = params["biz_content"]
    assert content == (
        '{"out_trade_no":"6f1c2a340d555b7e9a412f2a7c0f1e01","total_amount":"25.00",'
        f'"subject":"订单 order-1001","product_code":"{product_code}",'
        '"time_expire":"2026-11-24 20:13:30"}'  # the attempt's start + 15 minutes, Beijing
    )
    assert verifies(params)


async def test_app_payment_is_an_order_string(provider: AlipayProvider) -> None:
    result = await provider.authorize(authorize_call("app"))
    assert result.next_action is not None
    assert result.next_action.type == "sdk"
    assert result.next_action.url is None
    order_string = result.next_action.data["order_string"]
    params = dict(parse_qsl(order_string, keep_blank_values=True))
    assert params["method"] == "alipay.trade.app.pay"
    assert "return_url" not in params
    assert '"product_code":"QUICK_MSECURITY_PAY"' in params["biz_content"]
    assert '"time_expire":"2026-11-24 20:15:00"' in params["biz_content"]  # no start: now + 15m
    assert verifies(params)


async def test_sandbox_gateway_is_used_when_configured(
    router: respx.MockRouter, clock: FixedClock
) -> None:
    route = router.post(SANDBOX_GATEWAY).mock(return_value=answer("precreate/qr_code.json"))
    provider, client = build(clock, gateway_url=SANDBOX_GATEWAY)
    await provider.authorize(authorize_call("qr"))
    await client.aclose()
    assert route.called


@pytest.mark.parametrize(
    ("token", "money", "code"),
    [
        ("card", CNY_25, DeclineCode.INVALID_REQUEST),
        ("qr", Money(2500, "USD"), DeclineCode.CURRENCY_NOT_SUPPORTED),
    ],
)
async def test_refused_before_sending(
    router: respx.MockRouter, provider: AlipayProvider, token: str, money: Money, code: DeclineCode
) -> None:
    result = await provider.authorize(authorize_call(token, money))
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert result.decline.code is code
    assert not router.calls


@pytest.mark.parametrize(
    ("fixture", "error", "canonical"),
    [
        ("precreate/system_error.json", OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
        ("precreate/service_unavailable.json", OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
        ("precreate/invalid_signature.json", NotSent, DeclineCode.PROVIDER_AUTH_FAILED),
        ("precreate/unsigned_success.json", OutcomeUnknown, DeclineCode.OUTCOME_UNKNOWN),
    ],
)
async def test_failure_answers(
    router: respx.MockRouter,
    provider: AlipayProvider,
    fixture: str,
    error: type[Exception],
    canonical: DeclineCode,
) -> None:
    router.post(LIVE_GATEWAY).mock(return_value=answer(fixture))
    with pytest.raises(error) as raised:
        await provider.authorize(authorize_call("qr"))
    assert raised.value.decline_code is canonical  # type: ignore[attr-defined]


async def test_a_forged_answer_is_outcome_unknown(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    body = FIXTURES.raw("precreate/qr_code.json").replace(b"bavh4wjlxf12tper3a", b"evil")
    router.post(LIVE_GATEWAY).respond(200, content=body)
    with pytest.raises(OutcomeUnknown, match="does not verify"):
        await provider.authorize(authorize_call("qr"))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<html>502 Bad Gateway</html>", 502),
        (b"", 200),
        (b"[]", 200),
        (b'{"alipay_trade_query_response":{"code":"10000"},"sign":"x"}', 200),  # other method
    ],
)
async def test_unreadable_answers_are_outcome_unknown(
    router: respx.MockRouter, provider: AlipayProvider, body: bytes, status: int
) -> None:
    router.post(LIVE_GATEWAY).respond(status, content=body)
    with pytest.raises(OutcomeUnknown):
        await provider.authorize(authorize_call("qr"))


async def test_http_429_is_not_sent(router: respx.MockRouter, provider: AlipayProvider) -> None:
    router.post(LIVE_GATEWAY).respond(429, headers={"retry-after": "2"})
    with pytest.raises(NotSent) as raised:
        await provider.authorize(authorize_call("qr"))
    assert raised.value.retry_after == 2.0


# -- transport failures, for every operation that calls Alipay -------------------------------------

OPERATIONS = {
    "authorize": lambda p: p.authorize(authorize_call("qr")),
    "void": lambda p: p.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25)),
    "refund": lambda p: p.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, CNY_25)),
    "retrieve": lambda p: p.retrieve(RetrieveCall("pay_1", KEY, CNY_25, REFERENCE)),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(("failure", "error"), TRANSPORT_FAILURES, ids=lambda v: v.__name__)
async def test_transport_failures_are_classified(
    router: respx.MockRouter,
    provider: AlipayProvider,
    operation: str,
    failure: type[Exception],
    error: type[Exception],
) -> None:
    router.post(LIVE_GATEWAY).mock(side_effect=failure)
    with pytest.raises(error) as raised:
        await OPERATIONS[operation](provider)
    if error is NotSent:
        assert not isinstance(raised.value, OutcomeUnknown)


# -- void (alipay.trade.close) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("close/closed.json", ProviderStatus.CANCELED),
        # Never opened in the cashier: the signed URL may still be paid until time_expire.
        ("close/trade_not_exist.json", ProviderStatus.PENDING),
        ("close/trade_status_error.json", ProviderStatus.DECLINED),
    ],
)
async def test_void_closes_the_trade(
    router: respx.MockRouter, provider: AlipayProvider, fixture: str, status: ProviderStatus
) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer(fixture))
    result = await provider.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25))
    assert result.status is status
    request = route.calls.last.request
    assert method_of(request) == "alipay.trade.close"
    assert biz(request) == {"out_trade_no": REFERENCE}
    assert verifies(sent(request))
    if status is ProviderStatus.DECLINED:
        assert result.decline is not None
        assert result.decline.decision is Decision.RECONCILE  # paid meanwhile: look it up


# -- refund ---------------------------------------------------------------------------------------


async def test_partial_refund_names_its_request(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer("refund/fund_change_y.json"))
    call = RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, Money(1000, "CNY"), "damaged")
    result = await provider.refund(call)
    assert result.status is RefundStatus.SUCCEEDED
    assert result.provider_reference == "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b"
    request = route.calls.last.request
    assert method_of(request) == "alipay.trade.refund"
    assert biz(request) == {
        "out_trade_no": REFERENCE,
        "refund_amount": "10.00",
        "out_request_no": "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b",
        "refund_reason": "damaged",
    }
    assert "notify_url" not in request.url.params
    assert verifies(sent(request))


async def test_two_partial_refunds_have_distinct_request_numbers(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer("refund/fund_change_y.json"))
    money = Money(500, "CNY")
    await provider.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, money))
    await provider.refund(
        RefundCall("pay_1", "rfd_2", "1c8e4d6f-9a7b-4f3e-8d2c-1b0a9f8e7d6c", REFERENCE, money)
    )
    numbers = [biz(c.request)["out_request_no"] for c in route.calls]
    assert numbers == ["0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b", "1c8e4d6f9a7b4f3e8d2c1b0a9f8e7d6c"]


@pytest.mark.parametrize(
    ("query_fixture", "status", "money"),
    [
        ("refund_query/refunded.json", RefundStatus.SUCCEEDED, Money(1, "CNY")),
        ("refund_query/not_refunded.json", RefundStatus.PENDING, None),
    ],
)
async def test_fund_change_n_is_confirmed_by_a_refund_query(
    router: respx.MockRouter,
    provider: AlipayProvider,
    query_fixture: str,
    status: RefundStatus,
    money: Money | None,
) -> None:
    route = router.post(LIVE_GATEWAY).mock(
        side_effect=[answer("refund/fund_change_n.json"), answer(query_fixture)]
    )
    call = RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, Money(1, "CNY"))
    result = await provider.refund(call)
    assert (result.status, result.money) == (status, money)
    query = route.calls.last.request
    assert method_of(query) == "alipay.trade.fastpay.refund.query"
    assert biz(query) == {
        "out_trade_no": REFERENCE,
        "out_request_no": "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b",
    }


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("refund/seller_balance_not_enough.json", DeclineCode.INSUFFICIENT_FUNDS),
        ("refund/refund_amt_not_equal_total.json", DeclineCode.INVALID_REQUEST),
    ],
)
async def test_refused_refunds_fail(
    router: respx.MockRouter, provider: AlipayProvider, fixture: str, code: DeclineCode
) -> None:
    router.post(LIVE_GATEWAY).mock(return_value=answer(fixture))
    result = await provider.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, CNY_25))
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.code is code


# -- retrieve -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("query/trade_success.json", ProviderStatus.CAPTURED),
        ("query/wait_buyer_pay.json", ProviderStatus.REQUIRES_ACTION),
        ("query/trade_closed_unpaid.json", ProviderStatus.CANCELED),
        ("query/trade_closed_refunded.json", ProviderStatus.CAPTURED),
        ("query/unknown_status.json", ProviderStatus.PENDING),
        ("query/trade_not_exist.json", ProviderStatus.NOT_FOUND),
    ],
)
async def test_retrieve_reads_the_trade(
    router: respx.MockRouter, provider: AlipayProvider, fixture: str, status: ProviderStatus
) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer(fixture))
    result = await provider.retrieve(RetrieveCall("pay_1", KEY, Money(1000, "CNY"), REFERENCE))
    assert result.status is status
    request = route.calls.last.request
    assert method_of(request) == "alipay.trade.query"
    assert biz(request) == {"out_trade_no": REFERENCE}
    if status is ProviderStatus.CAPTURED:
        assert (result.money, result.captured) == (Money(1000, "CNY"), Money(1000, "CNY"))


async def test_retrieve_by_key_when_the_answer_was_lost(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    route = router.post(LIVE_GATEWAY).mock(return_value=answer("query/trade_success.json"))
    result = await provider.retrieve(RetrieveCall("pay_1", KEY, Money(1000, "CNY"), None))
    assert biz(route.calls.last.request) == {"out_trade_no": "6f1c2a340d555b7e9a412f2a7c0f1e01"}
    assert result.provider_reference == "6f1c2a340d555b7e9a412f2a7c0f1e01"


async def test_a_refused_lookup_is_outcome_unknown(
    router: respx.MockRouter, provider: AlipayProvider
) -> None:
    router.post(LIVE_GATEWAY).mock(return_value=answer("precreate/invalid_parameter.json"))
    with pytest.raises(OutcomeUnknown):
        await provider.retrieve(RetrieveCall("pay_1", KEY, CNY_25, REFERENCE))


# -- settings -------------------------------------------------------------------------------------


def test_keys_may_be_files(tmp_path: Path) -> None:
    key_file = tmp_path / "app_private_key.pem"
    key_file.write_bytes(vector("alipay_fzlee_test_app_private_key_pkcs1.pem"))
    public_file = tmp_path / "alipay_public_key.pem"
    public_file.write_bytes(vector("alipay_nodesdk_response_sign_public_key.pem"))
    config = settings(
        app_private_key=SecretStr(f"file:{key_file}"), alipay_public_keys=[f"file:{public_file}"]
    )
    assert config.alipay_public_keys == [f"file:{public_file}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("app_private_key", SecretStr("MIIEowIBAAKCAQEAnLNAjrJnSadUSFm4Iw04-not-a-key")),
        ("app_private_key", SecretStr("file:/nonexistent/app_private_key.pem")),
        ("alipay_public_keys", ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]),
        ("alipay_public_keys", []),
    ],
)
def test_bad_keys_are_refused_without_echoing_them(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        settings(**{field: value})
    assert "MIIEowIBAAKCAQEAnLNAjrJnSadUSFm4Iw04" not in str(raised.value)


def test_the_private_key_is_never_shown(provider: AlipayProvider) -> None:
    pem = vector("alipay_fzlee_test_app_private_key_pkcs1.pem").decode()
    body = pem.splitlines()[1]
    for text in (repr(provider.settings), str(provider.settings), repr(provider)):
        assert body not in text

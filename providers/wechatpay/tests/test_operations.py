"""Every WeChat Pay operation on respx: what is sent (path, body, Authorization) and how each
answer, each unverifiable answer and each transport failure is read."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import hashes
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
from gatewayhub_wechatpay.provider import API, WechatPayProvider

from .harness import (
    FIXTURES,
    MERCHANT_KEY,
    MERCHANT_KEY_PEM,
    NOTIFY_URL,
    PREVIOUS,
    PUBLIC_KEY_ID,
    PUBLIC_MODE,
    REFERENCE,
    build,
    settings,
    signed,
    text,
    unsigned,
)

KEY = "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
REFUND_KEY = "0b7d3c5e-8f6a-4e2d-9c1b-0a9f8e7d6c5b"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CNY_25 = Money(2500, "CNY")
NATIVE = f"{API}/v3/pay/transactions/native"
ORDER = f"{API}/v3/pay/transactions/out-trade-no/{REFERENCE}"
REFUNDS = f"{API}/v3/refund/domestic/refunds"


def authorize_call(token: str = "native", money: Money = CNY_25, **extra: Any) -> AuthorizeCall:
    return AuthorizeCall(
        payment_id="pay_01X",
        key=KEY,
        money=money,
        capture=True,
        method=PaymentMethod(type="wechat_pay", token=token),
        token=token,
        reference="order-1001",
        description="Image形象店-深圳腾大-QQ公仔",
        **extra,
    )


def signature_verifies(request: httpx.Request) -> bool:
    """WeChat's check of our Authorization header, written out from the docs with the
    merchant's public key (what WeChat holds)."""
    scheme, _, fields = request.headers["Authorization"].partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    values = dict(item.split("=", 1) for item in fields.split(","))
    values = {k: v.strip('"') for k, v in values.items()}
    message = (
        (
            f"{request.method}\n{request.url.raw_path.decode()}\n{values['timestamp']}\n"
            f"{values['nonce_str']}\n"
        ).encode()
        + request.content
        + b"\n"
    )
    MERCHANT_KEY.public_key().verify(
        base64.b64decode(values["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
    )
    return values["mchid"] == "1234567890" and values["serial_no"] == "F5765756002FDD77"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:
        yield mock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def provider(router: respx.MockRouter, clock: FixedClock) -> AsyncIterator[WechatPayProvider]:
    adapter, client = build(clock)
    yield adapter
    await client.aclose()


# -- authorize ----------------------------------------------------------------------------------


async def test_native_order(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock
) -> None:
    route = router.post(NATIVE).mock(
        side_effect=signed(200, FIXTURES.raw("create/native.json"), clock)
    )
    started = datetime(2026, 11, 24, 11, 59, 1, tzinfo=UTC)
    result = await provider.authorize(authorize_call(started_at=started))
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert result.provider_reference == "6f1c2a340d555b7e9a412f2a7c0f1e01"
    assert result.next_action is not None
    assert result.next_action.type == "display_qr"
    assert result.next_action.data == {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert "Wechatpay-Serial" not in request.headers
    assert json.loads(request.content) == {
        "appid": "wxd678efh567hg6787",
        "mchid": "1234567890",
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": "6f1c2a340d555b7e9a412f2a7c0f1e01",
        "time_expire": "2026-11-24T20:14:01+08:00",  # the attempt's start + 15 min, Beijing
        "attach": "pay_01X",
        "notify_url": NOTIFY_URL,
        "amount": {"total": 2500, "currency": "CNY"},
    }
    assert "形象店".encode() in request.content  # UTF-8 as sent, and signed as sent
    assert signature_verifies(request)


async def test_a_replay_sends_the_same_body(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock
) -> None:
    route = router.post(NATIVE).mock(
        side_effect=signed(200, FIXTURES.raw("create/native.json"), clock)
    )
    call = authorize_call(started_at=NOW)
    await provider.authorize(call)
    clock.advance(7.5)  # the core's back-off before a same-key retry
    await provider.authorize(call)
    first, second = (c.request for c in route.calls)
    assert first.content == second.content
    assert first.headers["Authorization"] != second.headers["Authorization"]  # new timestamp


async def test_public_key_mode_names_the_key_in_requests(
    router: respx.MockRouter, clock: FixedClock
) -> None:
    route = router.post(NATIVE).mock(
        side_effect=signed(
            200, FIXTURES.raw("create/native.json"), clock, key=PUBLIC_MODE, serial=PUBLIC_KEY_ID
        )
    )
    provider, client = build(
        clock,
        platform_certificates=[],
        platform_public_keys={
            PUBLIC_KEY_ID: text("keys", "fake_platform_public_key_mode_public.pem")
        },
    )
    result = await provider.authorize(authorize_call())
    await client.aclose()
    assert result.status is ProviderStatus.REQUIRES_ACTION
    assert route.calls.last.request.headers["Wechatpay-Serial"] == PUBLIC_KEY_ID


@pytest.mark.parametrize(
    ("token", "money", "code"),
    [
        ("tok_visa", CNY_25, DeclineCode.INVALID_REQUEST),
        ("jsapi:", CNY_25, DeclineCode.INVALID_REQUEST),
        ("native", Money(2500, "HKD"), DeclineCode.CURRENCY_NOT_SUPPORTED),
    ],
)
async def test_refused_before_sending(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    token: str,
    money: Money,
    code: DeclineCode,
) -> None:
    result = await provider.authorize(authorize_call(token, money))
    assert result.decline is not None
    assert result.decline.code is code
    assert not router.calls


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("unknown serial", {"serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}),
        ("previous key under the current serial", {"key": PREVIOUS}),
        ("merchant key", {"key": MERCHANT_KEY}),
    ],
)
async def test_answers_that_do_not_verify_are_outcome_unknown(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    clock: FixedClock,
    name: str,
    options: dict[str, Any],
) -> None:
    router.post(NATIVE).mock(
        side_effect=signed(200, FIXTURES.raw("create/native.json"), clock, **options)
    )
    with pytest.raises(OutcomeUnknown, match="not verified"):
        await provider.authorize(authorize_call())


async def test_an_unsigned_success_is_outcome_unknown(
    router: respx.MockRouter, provider: WechatPayProvider
) -> None:
    router.post(NATIVE).respond(200, content=FIXTURES.raw("create/native.json"))
    with pytest.raises(OutcomeUnknown, match="missing_header"):
        await provider.authorize(authorize_call())


async def test_a_tampered_answer_is_outcome_unknown(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock
) -> None:
    sign = signed(200, FIXTURES.raw("create/native.json"), clock)

    def tampered(request: httpx.Request) -> httpx.Response:
        genuine = sign(request)
        return httpx.Response(200, content=b'{"code_url":"weixin://evil"}', headers=genuine.headers)

    router.post(NATIVE).mock(side_effect=tampered)
    with pytest.raises(OutcomeUnknown, match="bad_signature"):
        await provider.authorize(authorize_call())


@pytest.mark.parametrize(("skew", "ok"), [(-299, True), (299, True), (-300, False), (300, False)])
async def test_answers_must_be_fresh(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock, skew: int, ok: bool
) -> None:
    router.post(NATIVE).mock(
        side_effect=signed(200, FIXTURES.raw("create/native.json"), clock, skew)
    )
    if ok:
        assert (await provider.authorize(authorize_call())).status is ProviderStatus.REQUIRES_ACTION
    else:
        with pytest.raises(OutcomeUnknown, match="expired"):
            await provider.authorize(authorize_call())


@pytest.mark.parametrize(
    ("status", "fixture", "code", "decision"),
    [
        (400, "errors/param_error.json", DeclineCode.INVALID_REQUEST, Decision.FAILOVER),
        (403, "errors/out_trade_no_used.json", DeclineCode.INVALID_REQUEST, Decision.RECONCILE),
        (
            400,
            "errors/appid_mchid_not_match.json",
            DeclineCode.PROVIDER_AUTH_FAILED,
            Decision.FAILOVER,
        ),
        (403, "errors/no_auth.json", DeclineCode.PROVIDER_AUTH_FAILED, Decision.FAILOVER),
        (403, "errors/orderpaid.json", DeclineCode.INVALID_REQUEST, Decision.RECONCILE),
        (400, "errors/brand_new_code.json", DeclineCode.GENERIC_DECLINE, Decision.FINAL),
    ],
)
async def test_refusals_are_declines(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    status: int,
    fixture: str,
    code: DeclineCode,
    decision: Decision,
) -> None:
    router.post(NATIVE).mock(side_effect=unsigned(status, fixture))
    result = await provider.authorize(authorize_call())
    assert result.status is ProviderStatus.DECLINED
    assert result.decline is not None
    assert (result.decline.code, result.decline.decision) == (code, decision)


async def test_a_refusal_without_a_body_is_a_generic_decline(
    router: respx.MockRouter, provider: WechatPayProvider
) -> None:
    router.post(NATIVE).respond(400, content=b"<html>Bad Request</html>")
    result = await provider.authorize(authorize_call())
    assert result.decline is not None
    assert (result.decline.code, result.decline.provider_code) == (
        DeclineCode.GENERIC_DECLINE,
        "HTTP_400",
    )


@pytest.mark.parametrize(
    ("status", "fixture", "error", "code"),
    [
        (401, "errors/sign_error.json", NotSent, DeclineCode.PROVIDER_AUTH_FAILED),
        (429, "errors/frequency_limited.json", NotSent, DeclineCode.RATE_LIMITED),
        (500, "errors/system_error.json", OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
        (502, "errors/system_error.json", OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
        (503, "errors/system_error.json", OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
    ],
)
async def test_failure_statuses(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    status: int,
    fixture: str,
    error: type[Exception],
    code: DeclineCode,
) -> None:
    router.post(NATIVE).mock(side_effect=unsigned(status, fixture))
    with pytest.raises(error) as raised:
        await provider.authorize(authorize_call())
    assert raised.value.decline_code is code  # type: ignore[attr-defined]


# -- transport failures, for every operation ------------------------------------------------------

OPERATIONS = {
    "authorize": lambda p: p.authorize(authorize_call()),
    "void": lambda p: p.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25)),
    "refund": lambda p: p.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, CNY_25)),
    "retrieve": lambda p: p.retrieve(RetrieveCall("pay_1", KEY, CNY_25, REFERENCE)),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(("failure", "error"), TRANSPORT_FAILURES, ids=lambda v: v.__name__)
async def test_transport_failures_are_classified(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    operation: str,
    failure: type[Exception],
    error: type[Exception],
) -> None:
    router.route(host="api.mch.weixin.qq.com").mock(side_effect=failure)
    with pytest.raises(error) as raised:
        await OPERATIONS[operation](provider)
    if error is NotSent:
        assert not isinstance(raised.value, OutcomeUnknown)


async def test_a_refund_that_timed_out_after_the_lookup_is_outcome_unknown(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock
) -> None:
    router.get(ORDER).mock(side_effect=signed(200, FIXTURES.raw("query/success.json"), clock))
    router.post(REFUNDS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        await provider.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, CNY_25))


# -- void (close) ---------------------------------------------------------------------------------


async def test_void_closes_the_order(
    router: respx.MockRouter, provider: WechatPayProvider, clock: FixedClock
) -> None:
    route = router.post(f"{ORDER}/close").mock(side_effect=signed(204, b"", clock))
    result = await provider.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25))
    assert result.status is ProviderStatus.CANCELED
    request = route.calls.last.request
    assert json.loads(request.content) == {"mchid": "1234567890"}
    assert signature_verifies(request)


async def test_an_unsigned_204_is_outcome_unknown(
    router: respx.MockRouter, provider: WechatPayProvider
) -> None:
    router.post(f"{ORDER}/close").respond(204)
    with pytest.raises(OutcomeUnknown):
        await provider.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25))


@pytest.mark.parametrize(
    ("status", "fixture", "expected"),
    [
        (400, "errors/order_closed.json", ProviderStatus.CANCELED),
        (403, "errors/orderpaid.json", ProviderStatus.DECLINED),
    ],
)
async def test_void_refusals(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    status: int,
    fixture: str,
    expected: ProviderStatus,
) -> None:
    router.post(f"{ORDER}/close").mock(side_effect=unsigned(status, fixture))
    result = await provider.void(VoidCall("pay_1", "vk", REFERENCE, CNY_25))
    assert result.status is expected


# -- refund ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("refund/success.json", RefundStatus.SUCCEEDED),
        ("refund/processing.json", RefundStatus.PENDING),
        ("refund/closed.json", RefundStatus.FAILED),
    ],
)
async def test_refund_sends_the_order_total(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    clock: FixedClock,
    fixture: str,
    status: RefundStatus,
) -> None:
    lookup = router.get(ORDER).mock(
        side_effect=signed(200, FIXTURES.raw("query/success.json"), clock)
    )
    route = router.post(REFUNDS).mock(side_effect=signed(200, FIXTURES.raw(fixture), clock))
    call = RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, Money(100, "CNY"), "damaged")
    result = await provider.refund(call)
    assert result.status is status
    assert result.money == Money(100, "CNY")  # amount.refund: this refund
    assert result.provider_reference == "50000000382019052709732678859"
    assert lookup.call_count == 1
    request = route.calls.last.request
    assert json.loads(request.content) == {
        "out_trade_no": REFERENCE,
        "out_refund_no": "0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b",
        "reason": "damaged",
        "notify_url": NOTIFY_URL,
        "amount": {"refund": 100, "total": 100, "currency": "CNY"},
    }
    assert signature_verifies(request)


async def test_refund_notifications_may_go_elsewhere(
    router: respx.MockRouter, clock: FixedClock
) -> None:
    router.get(ORDER).mock(side_effect=signed(200, FIXTURES.raw("query/refund.json"), clock))
    route = router.post(REFUNDS).mock(
        side_effect=signed(200, FIXTURES.raw("refund/success.json"), clock)
    )
    provider, client = build(clock, refund_notify_url="https://shop.example/refunds")
    await provider.refund(RefundCall("pay_1", "rfd_2", REFUND_KEY, REFERENCE, Money(100, "CNY")))
    await client.aclose()
    body = json.loads(route.calls.last.request.content)
    assert body["notify_url"] == "https://shop.example/refunds"
    assert "reason" not in body


@pytest.mark.parametrize(
    ("lookup", "refund", "code"),
    [
        ((404, "errors/order_not_exist.json"), None, DeclineCode.INVALID_REQUEST),
        (
            (200, "query/success.json"),
            (403, "errors/not_enough.json"),
            DeclineCode.INSUFFICIENT_FUNDS,
        ),
    ],
)
async def test_refused_refunds_fail(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    clock: FixedClock,
    lookup: tuple[int, str],
    refund: tuple[int, str] | None,
    code: DeclineCode,
) -> None:
    status, fixture = lookup
    answer = (
        signed(status, FIXTURES.raw(fixture), clock) if status == 200 else unsigned(status, fixture)
    )
    router.get(ORDER).mock(side_effect=answer)
    if refund is not None:
        router.post(REFUNDS).mock(side_effect=unsigned(*refund))
    result = await provider.refund(RefundCall("pay_1", "rfd_1", REFUND_KEY, REFERENCE, CNY_25))
    assert result.status is RefundStatus.FAILED
    assert result.decline is not None
    assert result.decline.code is code


# -- retrieve -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("query/success.json", ProviderStatus.CAPTURED),
        ("query/refund.json", ProviderStatus.CAPTURED),
        ("query/notpay.json", ProviderStatus.REQUIRES_ACTION),
        ("query/closed.json", ProviderStatus.CANCELED),
        ("query/userpaying.json", ProviderStatus.PENDING),
        ("query/payerror.json", ProviderStatus.DECLINED),
        ("query/unknown_state.json", ProviderStatus.PENDING),
    ],
)
async def test_retrieve_reads_the_order(
    router: respx.MockRouter,
    provider: WechatPayProvider,
    clock: FixedClock,
    fixture: str,
    status: ProviderStatus,
) -> None:
    route = router.get(ORDER).mock(side_effect=signed(200, FIXTURES.raw(fixture), clock))
    result = await provider.retrieve(RetrieveCall("pay_1", KEY, Money(100, "CNY"), REFERENCE))
    assert result.status is status
    assert result.money == Money(100, "CNY")
    assert route.calls.last.request.url.params["mchid"] == "1234567890"


async def test_retrieve_by_key_and_not_found(
    router: respx.MockRouter, provider: WechatPayProvider
) -> None:
    route = router.get(
        f"{API}/v3/pay/transactions/out-trade-no/6f1c2a340d555b7e9a412f2a7c0f1e01"
    ).mock(side_effect=unsigned(404, "errors/order_not_exist.json"))
    result = await provider.retrieve(RetrieveCall("pay_1", KEY, CNY_25, None))
    assert result.status is ProviderStatus.NOT_FOUND
    assert route.called


async def test_a_refused_lookup_is_outcome_unknown(
    router: respx.MockRouter, provider: WechatPayProvider
) -> None:
    router.get(ORDER).mock(side_effect=unsigned(400, "errors/param_error.json"))
    with pytest.raises(OutcomeUnknown):
        await provider.retrieve(RetrieveCall("pay_1", KEY, CNY_25, REFERENCE))


# -- settings -------------------------------------------------------------------------------------


def test_keys_may_be_files(tmp_path: Path) -> None:
    key_file = tmp_path / "apiclient_key.pem"
    key_file.write_text(MERCHANT_KEY_PEM)
    cert_file = tmp_path / "wechatpay_cert.pem"
    cert_file.write_text(text("keys", "fake_platform_current_cert.pem"))
    config = settings(
        merchant_private_key=SecretStr(f"file:{key_file}"),
        platform_certificates=[f"file:{cert_file}"],
    )
    assert config.platform_certificates == [f"file:{cert_file}"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("apiv3_key", SecretStr("testMchAPIv3Key0"), "32 characters"),
        ("notify_url", "http://shop.example/notify", "https URL"),
        ("notify_url", "https://shop.example/notify?order=1", "without a query"),
        ("platform_certificates", [], "platform_certificates or platform_public_keys"),
        ("platform_public_keys", {"KEY1": "x"}, "PUB_KEY_ID_"),
        (
            "merchant_private_key",
            SecretStr("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            "RSA private key",
        ),
        (
            "platform_certificates",
            ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"],
            "X.509",
        ),
    ],
)
def test_bad_settings_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        settings(**{field: value})
    assert MERCHANT_KEY_PEM.splitlines()[1] not in str(raised.value)


def test_secrets_are_never_shown(provider: WechatPayProvider) -> None:
    for text_ in (repr(provider), repr(provider.settings), str(provider.settings)):
        assert MERCHANT_KEY_PEM.splitlines()[1] not in text_
        assert "gatewayhubTestAPIv3Key" not in text_

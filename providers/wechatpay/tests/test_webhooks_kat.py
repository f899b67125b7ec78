"""Known answers: every WeChat Pay vector of ../shared/providers/vectors (copied to
`vectors/`), then the negative and boundary cases. Expected values are the vectors' own
(wechatpay.md §8) or made with `cryptography` directly in the harness.

W1  wechatpay-go signer: SHA256withRSA of "source" with the test key
W2  wechatpay-go credential: the signed message layout (GET empty body, POST with body)
W3  wechatpay-go notify: headers + raw body + platform certificate; resource plaintext
W4  wechatpay-go AES-GCM util
W5  Native order Authorization header; W5b the GET query's signature
W6  JSAPI paySign
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import respx
from cryptography.exceptions import InvalidTag

from gatewayhub.models import AuthorizeCall, EventKind, PaymentMethod, RetrieveCall
from gatewayhub.money import Money
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.testing import FixedClock
from gatewayhub_wechatpay import signing
from gatewayhub_wechatpay.provider import API, WechatPayProvider

from .harness import (
    APIV3_KEY,
    CURRENT,
    CURRENT_SERIAL,
    FIXTURES,
    HERE,
    MERCHANT_KEY,
    PREVIOUS,
    PREVIOUS_SERIAL,
    PUBLIC_KEY_ID,
    PUBLIC_MODE,
    build,
    notification,
    refund_plaintext,
    signed,
    text,
    transaction_plaintext,
)

W1 = (
    "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6"
    "pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqI"
    "MzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51"
    "qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg=="
)
W5_BODY = (
    b'{"appid":"wxd678efh567hg6787","mchid":"1234567890","description":"Image",'
    b'"out_trade_no":"ORDER-0001","notify_url":"https://example.com/notify",'
    b'"amount":{"total":100,"currency":"CNY"}}'
)
W5_HEADER = (
    'WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",'
    'timestamp="1624523846",serial_no="F5765756002FDD77",signature="1LoQvo14vAixquLBay4ove+Dl1'
    "Lj8Z8iPo+QWDFKzFt0cEwUdWW0xQWkXjlGyOPl0fz4JbWCbNxHbKOb6Sy92y9tfQYewsHox5zn5j9rNQSEEoedEAxG"
    "2ZbiESrEf1mLbiJbF90UjO9dMNNqSowTdKcb/k8ZVtIOYcUgvz9MT3syFmb30RnmijMB8e0qfDUDkLfZ+OTUNFpT24"
    "iFCkeA/Uc7dXzB66CplKfPXj9lU9ZCy6OCjB774DsIjnQbyR2UO5xTB2BRyHbet205zHx8uZ7rZZZqHOIf8BFb8reh"
    'Hki4OGO1O/q12OOhAAG5usv/WNhySnYuu9I5nSntPLweGA=="'
)
W5B_SIGNATURE = (
    "oc/MvVTpTcNFcwfaCtXf/p3qYP1KRQhrLARCRS8rgGZmj0CnsZnPrmSSm1Zk2mvTyQcYLHlcpNcny7WNPif8JCay"
    "cnekw0gz/kQsssBbaWPUaD8g7gFoWPG+gfChZDHDm+jR2puxBnqqy1n2j9on8svreFk6uQ55FHZlpzta3746DoYa"
    "ld5xaeAhcaORLG+Myf9x1ofzVRD9tIfCkvGB/ItdkKq0/fSqoR2CBG9oYlT7hWz9ijhjD2etu8PcObuFEY69WVql"
    "1o9ecp1tpRoi5RlhzbxpZ/ldBgZsx1gBIHfdclPBMZg0OTgAsAw2p/lXzqKcwrzvpyI8gbMLca5hmg=="
)
W6 = (
    "MDE62rYuAC9RMDAQ59nVVrYoipIvcGsMZbanD834UYnzAJRZaN7jNqChPlrGAI8AfTBZTrk5kctQl/40oB2/Ek2e"
    "Iu2/JfwGw0l+7DmPwjDaFXdTRCjKZPzb5eZH8L0qLoPJpT5P919skeqzbgS/iJSE6qUyCVgGAvynFsCNT+4cQLim"
    "C6DvgChyVOndgoNaUZ/n4fSqBqREx2IJ3R2KDlpxe2xl1EHFPQg5Fi3cLi/hvdshzzcvdZAortWWPcLcVKcBqfXS"
    "vMMAkSrxXmPCtUJZR4DIRUZS+9/puTVntm0vlVKRXnEsRSf0Y0NUmL9tUhFaN1EIqERIoYzSaTpZPw=="
)
W3: dict[str, Any] = json.loads((HERE / "vectors" / "wechatpay_notify_vector.json").read_text())
W3_BODY = (HERE / "vectors" / W3["body_file"]).read_bytes()
W3_TIME = 1624523846


def at(unix: int) -> FixedClock:
    return FixedClock(datetime.fromtimestamp(unix, tz=UTC))


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def provider(router: respx.MockRouter) -> AsyncIterator[WechatPayProvider]:
    adapter, client = build(at(W3_TIME))
    yield adapter
    await client.aclose()


# -- W1, W2, W5, W6: what we sign ------------------------------------------------------------------


def test_w1_signer() -> None:
    assert signing.sign(MERCHANT_KEY, b"source") == W1


def test_w2_message_layout() -> None:
    assert signing.request_message(
        "GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b""
    ) == (b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n")
    post = signing.request_message(
        "POST", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b"Hello World!\n"
    )
    assert post.endswith(b"\nA1B2C3D4E5F6G7\nHello World!\n\n")


def test_w5_native_order_authorization() -> None:
    header = signing.authorization(
        MERCHANT_KEY,
        mchid="1234567890",
        serial_no="F5765756002FDD77",
        method="POST",
        url="/v3/pay/transactions/native",
        timestamp=1624523846,
        nonce="A1B2C3D4E5F6G7",
        body=W5_BODY,
    )
    assert header == W5_HEADER


async def test_w5b_query_is_signed_over_path_and_query(router: respx.MockRouter) -> None:
    clock = at(W3_TIME)
    route = router.get(f"{API}/v3/pay/transactions/out-trade-no/ORDER-0001").mock(
        side_effect=signed(200, FIXTURES.raw("query/success.json"), clock)
    )
    provider, client = build(clock)
    await provider.retrieve(RetrieveCall("pay_1", "k", Money(100, "CNY"), "ORDER-0001"))
    await client.aclose()
    request = route.calls.last.request
    assert request.url.raw_path == b"/v3/pay/transactions/out-trade-no/ORDER-0001?mchid=1234567890"
    assert request.content == b""
    assert request.headers["Authorization"] == (
        'WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",'
        f'timestamp="1624523846",serial_no="F5765756002FDD77",signature="{W5B_SIGNATURE}"'
    )
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("gatewayhub-wechatpay/")


async def test_w6_jsapi_payment_parameters(router: respx.MockRouter) -> None:
    clock = at(W3_TIME)
    route = router.post(f"{API}/v3/pay/transactions/jsapi").mock(
        side_effect=signed(200, FIXTURES.raw("create/jsapi.json"), clock)
    )
    provider, client = build(clock)
    token = "jsapi:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    call = AuthorizeCall(
        "pay_1",
        "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01",
        Money(100, "CNY"),
        True,
        PaymentMethod(type="wechat_pay", token=token),
        token,
        description="Image",
    )
    result = await provider.authorize(call)
    await client.aclose()
    assert result.next_action is not None
    assert result.next_action.type == "sdk"
    assert dict(result.next_action.data) == {
        "appId": "wxd678efh567hg6787",
        "timeStamp": "1624523846",
        "nonceStr": "A1B2C3D4E5F6G7",
        "package": "prepay_id=wx201410272009395522657a690389285100",
        "signType": "RSA",
        "paySign": W6,
    }
    body = json.loads(route.calls.last.request.content)
    assert body["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}


# -- W3: a real notification -----------------------------------------------------------------------


def w3_provider(
    router: respx.MockRouter, unix: int = W3_TIME, **overrides: Any
) -> WechatPayProvider:
    settings: dict[str, Any] = {
        "platform_certificates": [text("vectors", W3["platform_cert_file"])],
        **overrides,
    }
    provider, _ = build(at(unix), **settings)
    return provider


def test_w3_body_is_the_vector_file() -> None:
    assert len(W3_BODY) == 568
    assert hashlib.sha256(W3_BODY).hexdigest() == (
        "b6fdfc5e4afdc463950d873c4fdc3c494df05965016225c6a1e8e2e887cdc94d"
    )


def test_w3_notification_verifies(router: respx.MockRouter) -> None:
    provider = w3_provider(router)
    provider.verify_webhook(W3["headers"], W3_BODY)
    [event] = provider.parse_webhook(W3["headers"], W3_BODY)
    assert event.kind is EventKind.UNHANDLED  # PAYSCORE.USER_OPEN_SERVICE: not ours to act on
    assert event.event_id == "3119dfba-e649-5eec-ab1e-3412bc4d2e17"
    assert event.raw_type == "PAYSCORE.USER_OPEN_SERVICE"


def test_w3_header_names_are_case_insensitive(router: respx.MockRouter) -> None:
    provider = w3_provider(router)
    provider.verify_webhook({k.lower(): v for k, v in W3["headers"].items()}, W3_BODY)
    provider.verify_webhook({k.upper(): v for k, v in W3["headers"].items()}, W3_BODY)


def test_w3_resource_decrypts_to_the_vectors_plaintext() -> None:
    resource = json.loads(W3_BODY)["resource"]
    plain = signing.decrypt(
        W3["apiv3_key"].encode(),
        resource["nonce"],
        resource["ciphertext"],
        resource["associated_data"],
    )
    assert plain.decode() == W3["expected_plaintext"]


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (299, True), (-299, True), (300, False), (-300, False), (3600, False)],
)
def test_w3_five_minute_window(router: respx.MockRouter, offset: int, accepted: bool) -> None:
    # The clock moves, the vector's timestamp does not: |now - timestamp| must stay < 300 s.
    provider = w3_provider(router, W3_TIME + offset)
    if accepted:
        provider.verify_webhook(W3["headers"], W3_BODY)
        return
    with pytest.raises(WebhookVerificationError) as raised:
        provider.verify_webhook(W3["headers"], W3_BODY)
    assert raised.value.reason == "expired"


def w3_with(**changes: str | None) -> dict[str, str]:
    headers = dict(W3["headers"])
    for name, value in changes.items():
        header = name.replace("_", "-")
        if value is None:
            del headers[header]
        else:
            headers[header] = value
    return headers


@pytest.mark.parametrize(
    ("name", "headers", "body", "reason"),
    [
        (
            "tampered body",
            W3["headers"],
            W3_BODY.replace(b"\xe7\xad\xbe", b"\xe7\xad\xbf"),
            "bad_signature",
        ),
        ("one byte added", W3["headers"], W3_BODY + b" ", "bad_signature"),
        ("wrong serial", w3_with(Wechatpay_Serial="D7CE59D1F522D702"), W3_BODY, "bad_signature"),
        ("other timestamp", w3_with(Wechatpay_Timestamp="1624523847"), W3_BODY, "bad_signature"),
        (
            "other nonce",
            w3_with(Wechatpay_Nonce="EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBZ"),
            W3_BODY,
            "bad_signature",
        ),
        (
            "signature probe",
            w3_with(
                Wechatpay_Signature="WECHATPAY/SIGNTEST/" + W3["headers"]["Wechatpay-Signature"]
            ),
            W3_BODY,
            "bad_signature",
        ),
        ("no signature", w3_with(Wechatpay_Signature=None), W3_BODY, "missing_header"),
        ("no serial", w3_with(Wechatpay_Serial=None), W3_BODY, "missing_header"),
        ("no timestamp", w3_with(Wechatpay_Timestamp=None), W3_BODY, "missing_header"),
        ("no nonce", w3_with(Wechatpay_Nonce=None), W3_BODY, "missing_header"),
        ("timestamp not a number", w3_with(Wechatpay_Timestamp="16245238a6"), W3_BODY, "malformed"),
        (
            "other scheme",
            w3_with(Wechatpay_Signature_Type="WECHATPAY2-SM2-WITH-SM3"),
            W3_BODY,
            "unsupported",
        ),
    ],
)
def test_w3_rejections(
    router: respx.MockRouter, name: str, headers: dict[str, str], body: bytes, reason: str
) -> None:
    provider = w3_provider(router)
    with pytest.raises(WebhookVerificationError) as raised:
        provider.verify_webhook(headers, body)
    assert raised.value.reason == reason, name


def test_w3_with_another_platform_certificate_is_refused(router: respx.MockRouter) -> None:
    # Our fake certificates are configured, not the vector's: its serial is unknown.
    provider, _ = build(at(W3_TIME))
    with pytest.raises(WebhookVerificationError) as raised:
        provider.verify_webhook(W3["headers"], W3_BODY)
    assert raised.value.reason == "bad_signature"


# -- W4: the cipher --------------------------------------------------------------------------------


def test_w4_decrypt() -> None:
    plain = signing.decrypt(
        b"testAPIv3Key0000",
        "wCq51qZv4Yfg",
        "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
        "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
    )
    assert plain == b"Hello World"


@pytest.mark.parametrize(
    ("key", "nonce", "ciphertext", "aad"),
    [
        (
            b"testAPIv3Key0001",
            "wCq51qZv4Yfg",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
        ),
        (
            b"testAPIv3Key0000",
            "wCq51qZv4Yfh",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
        ),
        (
            b"testAPIv3Key0000",
            "wCq51qZv4Yfg",
            "GsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
        ),
        (
            b"testAPIv3Key0000",
            "wCq51qZv4Yfg",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR9",
        ),
    ],
    ids=["wrong key", "wrong nonce", "tampered ciphertext", "wrong associated data"],
)
def test_w4_any_change_fails_the_tag(key: bytes, nonce: str, ciphertext: str, aad: str) -> None:
    with pytest.raises(InvalidTag):
        signing.decrypt(key, nonce, ciphertext, aad)


# -- our notifications: every event we act on, and what breaks them --------------------------------

NOW = 1_795_000_000  # 2026-11-19


def ours(router: respx.MockRouter, **overrides: Any) -> WechatPayProvider:
    provider, _ = build(at(NOW), **overrides)
    return provider


def test_payment_success_is_a_capture_of_our_attempt(router: respx.MockRouter) -> None:
    plain = transaction_plaintext(out_trade_no="6f1c2a340d555b7e9a412f2a7c0f1e01", attach="pay_01X")
    headers, body = notification("TRANSACTION.SUCCESS", plain, timestamp=NOW)
    provider = ours(router)
    provider.verify_webhook(headers, body)
    [event] = provider.parse_webhook(headers, body)
    assert event.kind is EventKind.CAPTURED
    assert event.event_id == "EV-2018022511223320873"
    assert event.provider_reference == "6f1c2a340d555b7e9a412f2a7c0f1e01"
    assert event.attempt_key == "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"
    assert event.payment_id == "pay_01X"
    assert event.money == Money(100, "CNY")
    assert event.occurred_at == datetime(2018, 6, 8, 2, 34, 56, tzinfo=UTC)
    assert provider.webhook_ack([event]).status_code == 204
    assert provider.webhook_ack([event]).body == b""


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("REFUND.SUCCESS", "SUCCESS", EventKind.REFUND_SUCCEEDED),
        ("REFUND.CLOSED", "CLOSED", EventKind.REFUND_FAILED),
        ("REFUND.ABNORMAL", "ABNORMAL", EventKind.UNHANDLED),  # stays pending: manual handling
    ],
)
def test_refund_notifications(
    router: respx.MockRouter, event_type: str, status: str, kind: EventKind
) -> None:
    plain = refund_plaintext(refund_status=status, out_refund_no="0b7d3c5e8f6a4e2d9c1b0a9f8e7d6c5b")
    headers, body = notification(event_type, plain, timestamp=NOW, original_type="refund")
    provider = ours(router)
    provider.verify_webhook(headers, body)
    [event] = provider.parse_webhook(headers, body)
    assert event.kind is kind
    if kind is not EventKind.UNHANDLED:
        assert event.refund_reference == "50200207182018070300011301001"
        assert event.attempt_key == "0b7d3c5e-8f6a-4e2d-9c1b-0a9f8e7d6c5b"
        assert event.provider_reference == "20150806125346"
        assert event.money == Money(999, "CNY")


def test_rotated_and_public_key_mode_signatures_are_accepted(router: respx.MockRouter) -> None:
    provider = ours(
        router,
        platform_public_keys={
            PUBLIC_KEY_ID: text("keys", "fake_platform_public_key_mode_public.pem")
        },
    )
    plain = transaction_plaintext()
    for key, serial in (
        (CURRENT, CURRENT_SERIAL),
        (PREVIOUS, PREVIOUS_SERIAL),
        (PUBLIC_MODE, PUBLIC_KEY_ID),
    ):
        headers, body = notification(
            "TRANSACTION.SUCCESS", plain, timestamp=NOW, key=key, serial=serial
        )
        provider.verify_webhook(headers, body)
    lower_serial = notification(
        "TRANSACTION.SUCCESS", plain, timestamp=NOW, serial=CURRENT_SERIAL.lower()
    )
    provider.verify_webhook(*lower_serial)


@pytest.mark.parametrize(
    ("name", "build_it", "reason"),
    [
        (
            "key of one serial, name of another",
            lambda: notification(
                "TRANSACTION.SUCCESS", transaction_plaintext(), timestamp=NOW, key=PREVIOUS
            ),
            "bad_signature",
        ),
        (
            "merchant key instead of platform key",
            lambda: notification(
                "TRANSACTION.SUCCESS", transaction_plaintext(), timestamp=NOW, key=MERCHANT_KEY
            ),
            "bad_signature",
        ),
        (
            "public key mode not configured",
            lambda: notification(
                "TRANSACTION.SUCCESS",
                transaction_plaintext(),
                timestamp=NOW,
                key=PUBLIC_MODE,
                serial=PUBLIC_KEY_ID,
            ),
            "bad_signature",
        ),
        (
            "five minutes late",
            lambda: notification(
                "TRANSACTION.SUCCESS", transaction_plaintext(), timestamp=NOW - 300
            ),
            "expired",
        ),
        (
            "five minutes early",
            lambda: notification(
                "TRANSACTION.SUCCESS", transaction_plaintext(), timestamp=NOW + 300
            ),
            "expired",
        ),
    ],
)
def test_our_notifications_rejected(
    router: respx.MockRouter, name: str, build_it: Any, reason: str
) -> None:
    headers, body = build_it()
    with pytest.raises(WebhookVerificationError) as raised:
        ours(router).verify_webhook(headers, body)
    assert raised.value.reason == reason, name


@pytest.mark.parametrize(
    ("name", "build_it", "reason"),
    [
        (
            "encrypted with another APIv3 key",
            lambda: notification(
                "TRANSACTION.SUCCESS",
                transaction_plaintext(),
                timestamp=NOW,
                apiv3_key="anotherAPIv3Key00000000000000000",
            ),
            "bad_signature",
        ),
        (
            "plaintext is not a transaction",
            lambda: notification("TRANSACTION.SUCCESS", b'{"hello":"world"}', timestamp=NOW),
            "malformed",
        ),
        (
            "plaintext is not JSON",
            lambda: notification("TRANSACTION.SUCCESS", b"\x00\x01", timestamp=NOW),
            "malformed",
        ),
    ],
)
def test_resources_that_do_not_decrypt_or_read(
    router: respx.MockRouter, name: str, build_it: Any, reason: str
) -> None:
    headers, body = build_it()
    provider = ours(router)
    provider.verify_webhook(headers, body)  # the envelope itself is authentic
    with pytest.raises(WebhookVerificationError) as raised:
        provider.parse_webhook(headers, body)
    assert raised.value.reason == reason, name


def test_unknown_algorithm_and_broken_envelope(router: respx.MockRouter) -> None:
    provider = ours(router)
    headers, body = notification("TRANSACTION.SUCCESS", transaction_plaintext(), timestamp=NOW)
    other = body.replace(b"AEAD_AES_256_GCM", b"AEAD_SM4_128_GCM")
    with pytest.raises(WebhookVerificationError) as raised:
        provider.parse_webhook(headers, other)
    assert raised.value.reason == "unsupported"
    with pytest.raises(WebhookVerificationError) as raised:
        provider.parse_webhook(headers, b'{"id": 1}')
    assert raised.value.reason == "malformed"


def test_the_harness_cipher_matches_the_vector_shape() -> None:
    # Our notifications are built like W3's: 12-character nonce, tag appended (16 bytes).
    headers, body = notification("TRANSACTION.SUCCESS", b"{}", timestamp=NOW)
    resource = json.loads(body)["resource"]
    assert len(resource["nonce"]) == 12
    assert len(base64.b64decode(resource["ciphertext"])) == 2 + 16
    assert (
        signing.decrypt(
            APIV3_KEY.encode(), resource["nonce"], resource["ciphertext"], "transaction"
        )
        == b"{}"
    )
    assert headers["Wechatpay-Serial"] == CURRENT_SERIAL

"""The WeChat Pay adapter on respx, answering with the verbatim bodies under `fixtures/`.

WeChat signs every answer and notification with its platform key, which nobody outside
Tencent has; here FAKE platform keys and self-signed certificates (`keys/`, generated for
these tests) stand in for it. The harness signs each answer at the moment it is served (the
signature covers a timestamp that must be within 5 minutes of the adapter's clock), with
`cryptography` directly, following the documented message layout, never the adapter's code.
The merchant key is the wechatpay-go signer test key (`vectors/`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import respx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub_wechatpay.provider import WechatPayProvider, WechatPaySettings

HERE = Path(__file__).parent
FIXTURES = Fixtures(HERE / "fixtures")
MCHID = "1234567890"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "F5765756002FDD77"
APIV3_KEY = "gatewayhubTestAPIv3Key0000000000"  # 32 bytes, obviously fake
PUBLIC_KEY_ID = "PUB_KEY_ID_0112345678902025112400000000000001"
NOTIFY_URL = "https://shop.example/v1/webhooks/wechatpay/wechat_cn"
REFERENCE = "1217752501201407033233368018"  # out_trade_no of the official sample answers
NOW = datetime.fromisoformat("2026-11-24T12:00:00+00:00")
C = DeclineCode


def text(folder: str, name: str) -> str:
    """A test key or vector file."""
    return (HERE / folder / name).read_text()


def private_key(folder: str, name: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key((HERE / folder / name).read_bytes(), None)
    assert isinstance(key, RSAPrivateKey)
    return key


def serial_of(cert_file: str) -> str:
    cert = x509.load_pem_x509_certificate((HERE / "keys" / cert_file).read_bytes())
    return format(cert.serial_number, "X")


MERCHANT_KEY_PEM = text("vectors", "wechatpay_signer_test_private_key_pkcs8.pem")
MERCHANT_KEY = private_key("vectors", "wechatpay_signer_test_private_key_pkcs8.pem")
CURRENT = private_key("keys", "fake_platform_current_key.pem")
PREVIOUS = private_key("keys", "fake_platform_previous_key.pem")
PUBLIC_MODE = private_key("keys", "fake_platform_public_key_mode_key.pem")
CURRENT_SERIAL = serial_of("fake_platform_current_cert.pem")
PREVIOUS_SERIAL = serial_of("fake_platform_previous_cert.pem")


def rsa_sign(key: RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def platform_headers(
    body: bytes,
    *,
    timestamp: int,
    key: RSAPrivateKey = CURRENT,
    serial: str = CURRENT_SERIAL,
    nonce: str = "fa6b4d91c2e04c8a8f1e3b7d5a9c2e40",
) -> dict[str, str]:
    """WeChat's signature headers over `timestamp\\nnonce\\nbody\\n`."""
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(key, message),
        "Wechatpay-Serial": serial,
        "Request-ID": "08F78BB5AF0610D302A1A8F00218D4D50E00000000",
    }


def signed(
    status: int, body: bytes, clock: FixedClock, skew: int = 0, **options: Any
) -> Callable[[httpx.Request], httpx.Response]:
    """An answer signed when it is served, stamped with the clock's time then plus `skew`
    seconds (a WeChat clock ahead of or behind ours)."""

    def respond(request: httpx.Request) -> httpx.Response:
        stamp = int(clock.now().timestamp()) + skew
        headers = platform_headers(body, timestamp=stamp, **options)
        if body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return httpx.Response(status, content=body, headers=headers)

    return respond


def error_answer(status: int, fixture: str) -> httpx.Response:
    """An error answer (WeChat does not promise to sign those)."""
    return httpx.Response(
        status, content=FIXTURES.raw(fixture), headers={"Content-Type": "application/json"}
    )


def unsigned(status: int, fixture: str) -> Callable[[httpx.Request], httpx.Response]:
    """An error answer as a side effect."""
    return lambda request: error_answer(status, fixture)


# WeChat's answers to the contract's failure scenarios (see gatewayhub.testing.faults). A
# malformed 2xx is arranged by the harness: it is signed when served, like every 2xx.
FAILURES = {
    "server_error": error_answer(500, "errors/system_error.json"),
    "rate_limited": error_answer(429, "errors/frequency_limited.json"),
    "auth_failed": error_answer(401, "errors/sign_error.json"),
}


def notification(
    event_type: str,
    plaintext: bytes,
    *,
    timestamp: int,
    event_id: str = "EV-2018022511223320873",
    key: RSAPrivateKey = CURRENT,
    serial: str = CURRENT_SERIAL,
    apiv3_key: str = APIV3_KEY,
    original_type: str = "transaction",
) -> tuple[dict[str, str], bytes]:
    """A notification as WeChat posts it: the official envelope sample with the resource
    encrypted (AES-256-GCM, APIv3 key, 12-character nonce, associated data), signed."""
    nonce = "fJqOm3gPzJ1c"
    aad = original_type
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext, aad.encode())
    envelope = FIXTURES.json("notify/envelope.json")
    envelope.update(id=event_id, event_type=event_type)
    envelope["resource"].update(
        original_type=original_type,
        ciphertext=base64.b64encode(ciphertext).decode(),
        associated_data=aad,
        nonce=nonce,
    )
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    headers = platform_headers(body, timestamp=timestamp, key=key, serial=serial)
    headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SHA256-RSA2048"
    headers["Content-Type"] = "application/json"
    return headers, body


def transaction_plaintext(**changes: Any) -> bytes:
    """The official payment-notification plaintext sample, with `changes`."""
    data = FIXTURES.json("notify/transaction_success.plain.json")
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def refund_plaintext(**changes: Any) -> bytes:
    """The official refund-notification plaintext sample, with `changes`."""
    data = FIXTURES.json("notify/refund_success.plain.json")
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def settings(**overrides: Any) -> WechatPaySettings:
    values: dict[str, Any] = {
        "mchid": MCHID,
        "appid": APPID,
        "merchant_serial_no": MERCHANT_SERIAL,
        "merchant_private_key": SecretStr(MERCHANT_KEY_PEM),
        "apiv3_key": SecretStr(APIV3_KEY),
        "platform_certificates": [
            text("keys", "fake_platform_current_cert.pem"),
            text("keys", "fake_platform_previous_cert.pem"),
        ],
        "notify_url": NOTIFY_URL,
        "timeouts": Timeouts(total=2.0),
    }
    values.update(overrides)
    return WechatPaySettings(**values)


def build(
    clock: FixedClock, nonce: str = "A1B2C3D4E5F6G7", **overrides: Any
) -> tuple[WechatPayProvider, httpx.AsyncClient]:
    """An adapter with a fixed nonce, whose client an active respx router intercepts."""
    client = httpx.AsyncClient()
    config = settings(**overrides)
    http = ProviderHTTP(client, account="wechat_test", timeouts=config.timeouts, clock=clock)
    return WechatPayProvider("wechat_test", config, http, nonce=lambda: nonce), client


class WechatPayHarness:
    """The contract harness."""

    scenarios = FAULTS | frozenset(
        {
            "requires_action",
            "voided",
            "refunded",
            "found",
            "not_found",
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "expired",
            "rotated",
            "unknown_type",
        }
    )
    # Written from WeChat's error-code pages (wechatpay.md §6), not from the adapter's table.
    decline_cases: Mapping[str, DeclineCode] = {
        "param_error": C.INVALID_REQUEST,
        "out_trade_no_used": C.INVALID_REQUEST,
        "appid_mchid_not_match": C.PROVIDER_AUTH_FAILED,
        "no_auth": C.PROVIDER_AUTH_FAILED,
        "brand_new_code": C.GENERIC_DECLINE,
    }
    _decline_status: Mapping[str, int] = {
        "param_error": 400,
        "out_trade_no_used": 403,
        "appid_mchid_not_match": 400,
        "no_auth": 403,
        "brand_new_code": 400,
    }
    # WeChat carries integer fen (wechatpay.md §4); CNY is its only currency here.
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1, "CNY"), 1),
        (Money(100, "CNY"), 100),
        (Money(123_456, "CNY"), 123_456),
    )
    default_money = Money(100, "CNY")
    secrets = (MERCHANT_KEY_PEM.splitlines()[1], APIV3_KEY)

    def __init__(self, router: respx.MockRouter, clock: FixedClock | None = None) -> None:
        self.router = router
        self.clock = clock or FixedClock(NOW)
        self.provider, self.client = build(self.clock)
        self.answers: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        router.route(host="api.mch.weixin.qq.com").mock(side_effect=self._serve)
        self._seen = 0

    def _serve(self, request: httpx.Request) -> httpx.Response:
        answer = self.answers.get((request.method, request.url.path))
        if answer is None:
            answer = self.answers[(request.method, "*")]
        return answer(request)

    def token(self, scenario: str) -> str:
        return "native"

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self._seen = len(self.router.calls)
        self.answers.clear()
        native = ("POST", "/v3/pay/transactions/native")
        order = ("GET", f"/v3/pay/transactions/out-trade-no/{REFERENCE}")
        if scenario.startswith("decline:"):
            name = scenario.removeprefix("decline:")
            self.answers[native] = unsigned(self._decline_status[name], f"errors/{name}.json")
            return
        if scenario in FAULTS - {"malformed"}:
            self.answers[native] = fault(scenario, answers=FAILURES)
            return
        self.answers.update(
            {
                "requires_action": {
                    native: signed(200, FIXTURES.raw("create/native.json"), self.clock)
                },
                "approved": {native: signed(200, FIXTURES.raw("create/native.json"), self.clock)},
                "malformed": {native: signed(200, b'{"code_url": ', self.clock)},
                "voided": {
                    ("POST", f"/v3/pay/transactions/out-trade-no/{REFERENCE}/close"): signed(
                        204, b"", self.clock
                    )
                },
                "refunded": {
                    order: signed(200, FIXTURES.raw("query/success.json"), self.clock),
                    ("POST", "/v3/refund/domestic/refunds"): signed(
                        200, FIXTURES.raw("refund/success.json"), self.clock
                    ),
                },
                "found": {order: signed(200, FIXTURES.raw("query/success.json"), self.clock)},
                # Whatever order number the adapter derives from a key it never sent.
                "not_found": {("GET", "*"): unsigned(404, "errors/order_not_exist.json")},
            }[scenario]
        )

    def requests(self) -> list[httpx.Request]:
        return [call.request for call in self.router.calls[self._seen :]]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return json.loads(request.content)["amount"]["total"]

    async def reference_for(self, operation: str) -> str:
        return REFERENCE

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        now = int(self.clock.now().timestamp())
        event_type = (
            "MCHTRANSFER.BATCH.FINISHED" if scenario == "unknown_type" else "TRANSACTION.SUCCESS"
        )
        options: dict[str, Any] = {
            "wrong_secret": {"key": MERCHANT_KEY},
            "rotated": {"key": PREVIOUS, "serial": PREVIOUS_SERIAL},
            "expired": {"timestamp": now - 300},
        }.get(scenario, {})
        options.setdefault("timestamp", now)
        headers, body = notification(event_type, transaction_plaintext(), **options)
        if scenario == "tampered":
            body = body.replace(b"EV-2018022511223320873", b"EV-2018022511223320874")
        if scenario == "missing_header":
            del headers["Wechatpay-Signature"]
        return headers, body

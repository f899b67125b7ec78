"""The Alipay adapter on respx, answering with the verbatim fixtures under `fixtures/`.

The "Alipay" key pair of these tests is the fzlee/alipay test application key (`vectors/`):
response fixtures and notifications are signed with its private half, and the adapter is
configured with its public half plus the Alipay key of the alipay-sdk-nodejs-all vector, so
the vector's real notification checks the rotation path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pydantic import SecretStr

from gatewayhub.errors import DeclineCode
from gatewayhub.money import Money
from gatewayhub.provider import ProviderHTTP, Timeouts
from gatewayhub.testing import FixedClock, Fixtures
from gatewayhub.testing.faults import FAULTS, fault
from gatewayhub_alipay.provider import LIVE_GATEWAY, AlipayProvider, AlipaySettings

HERE = Path(__file__).parent
FIXTURES = Fixtures(HERE / "fixtures")
VECTORS = HERE / "vectors"
APP_ID = "2019073166072302"  # the app of the alipay-sdk-nodejs-all notification vector
SELLER_ID = "2088531891668739"
REFERENCE = "6f1c2a340d555b7e9a412f2a7c0f1e01"
C = DeclineCode


def vector(name: str) -> bytes:
    """A file copied byte for byte from ../shared/providers/vectors."""
    return (VECTORS / name).read_bytes()


def private_key(name: str) -> RSAPrivateKey:
    """A test private key from `vectors/`."""
    key = serialization.load_pem_private_key(vector(name), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


ALIPAY_KEY = private_key("alipay_fzlee_test_app_private_key_pkcs1.pem")
STRANGER_KEY = private_key("wechatpay_signer_test_private_key_pkcs8.pem")
NODESDK_VECTOR: dict[str, Any] = json.loads(vector("alipay_vectors.json"))


def rsa2(key: RSAPrivateKey, content: str) -> str:
    """A base64 SHA256withRSA signature, made with `cryptography` directly."""
    return base64.b64encode(
        key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    ).decode("ascii")


def signed_notification(fields: Mapping[str, str], key: RSAPrivateKey = ALIPAY_KEY) -> bytes:
    """An urlencoded notification signed the way Alipay documents it (written out here, not
    taken from the adapter): sorted non-empty fields without sign and sign_type."""
    content = "&".join(
        f"{k}={fields[k]}" for k in sorted(fields) if k not in ("sign", "sign_type") and fields[k]
    )
    return urlencode({**fields, "sign": rsa2(key, content)}).encode("ascii")


def form(body: bytes) -> dict[str, str]:
    """An urlencoded body as a dict."""
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))


def settings(**overrides: Any) -> AlipaySettings:
    """The test account: fzlee key as our app key AND as Alipay's (we sign its answers),
    the nodesdk vector's Alipay key second (rotation)."""
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "app_private_key": SecretStr(
            vector("alipay_fzlee_test_app_private_key_pkcs1.pem").decode()
        ),
        "alipay_public_keys": [
            vector("alipay_fzlee_test_app_public_key.pem").decode(),
            NODESDK_VECTOR["alipay_public_key_b64_spki"],
        ],
        "notify_url": "https://shop.example/alipay/notify",
        "seller_id": SELLER_ID,
        "timeouts": Timeouts(total=2.0),
    }
    values.update(overrides)
    return AlipaySettings(**values)


def build(clock: FixedClock, **overrides: Any) -> tuple[AlipayProvider, httpx.AsyncClient]:
    """An adapter whose client is intercepted by an active respx router."""
    client = httpx.AsyncClient()
    config = settings(**overrides)
    http = ProviderHTTP(client, account="alipay_test", timeouts=config.timeouts, clock=clock)
    return AlipayProvider("alipay_test", config, http), client


def method_of(request: httpx.Request) -> str:
    """The gateway method a request calls."""
    return request.url.params["method"]


def biz(request: httpx.Request) -> dict[str, Any]:
    """The biz_content a request carries."""
    content: dict[str, Any] = json.loads(form(request.content)["biz_content"])
    return content


def answer(name: str) -> httpx.Response:
    """A fixture as Alipay sends it (Alipay labels its JSON text/html)."""
    return httpx.Response(
        200, content=FIXTURES.raw(name), headers={"content-type": "text/html;charset=utf-8"}
    )


# Alipay's answers to the contract's failure scenarios (see gatewayhub.testing.faults): its
# gateway reports an unavailable service or a refused signature in a 200 answer.
MALFORMED = httpx.Response(200, content=b'{"alipay_trade_precrea')
FAILURES = {
    "server_error": answer("precreate/service_unavailable.json"),
    "auth_failed": answer("precreate/invalid_signature.json"),
}


class AlipayHarness:
    """The contract harness."""

    scenarios = frozenset(
        {
            "requires_action",
            "malformed",
            "connect_error",
            "read_timeout",
            "server_error",
            "auth_failed",
            "voided",
            "refunded",
            "found",
            "not_found",
            "valid",
            "tampered",
            "wrong_secret",
            "missing_header",
            "rotated",
            "unknown_type",
        }
    )
    # Written from Alipay's code table (alipay.md §6), not from the adapter's table.
    decline_cases: Mapping[str, DeclineCode] = {
        "buyer_not_match": C.INVALID_REQUEST,
        "context_inconsistent": C.INVALID_REQUEST,
        "trade_has_success": C.INVALID_REQUEST,
        "invalid_parameter": C.INVALID_REQUEST,
        "brand_new_code": C.GENERIC_DECLINE,
    }
    # Alipay carries yuan with two decimals (alipay.md §4); CNY is its only currency here.
    amount_cases: Sequence[tuple[Money, Any]] = (
        (Money(1, "CNY"), "0.01"),
        (Money(1050, "CNY"), "10.50"),
        (Money(10_000_000_000, "CNY"), "100000000.00"),
    )
    default_money = Money(1000, "CNY")

    def __init__(self, router: respx.MockRouter, clock: FixedClock | None = None) -> None:
        self.router = router
        self.clock = clock or FixedClock(datetime.fromisoformat("2026-11-24T12:00:00+00:00"))
        self.provider, self.client = build(self.clock)
        self.route = router.post(LIVE_GATEWAY)
        # A line of the private key's body: any fragment of it in a text is a leak.
        pem = self.provider.settings.app_private_key.get_secret_value()
        self.secrets = tuple(pem.splitlines()[1:3])
        self._seen = 0

    def token(self, scenario: str) -> str:
        return "qr"

    def arrange(self, operation: str, scenario: str, call: Any = None) -> None:
        self._seen = len(self.router.calls)
        fixture = {
            ("authorize", "requires_action"): "precreate/qr_code.json",
            ("authorize", "approved"): "precreate/qr_code.json",
            ("void", "voided"): "close/closed.json",
            ("refund", "refunded"): "refund/fund_change_y.json",
            ("retrieve", "found"): "query/trade_success.json",
            ("retrieve", "not_found"): "query/trade_not_exist.json",
        }.get((operation, scenario))
        if scenario.startswith("decline:"):
            fixture = f"precreate/{scenario.removeprefix('decline:')}.json"
        if fixture is not None:
            self.route.side_effect = None
            self.route.return_value = answer(fixture)
        elif scenario in FAULTS:
            self.route.side_effect = fault(scenario, malformed=MALFORMED, answers=FAILURES)
        else:
            raise AssertionError(f"no arrangement for {operation}/{scenario}")

    def requests(self) -> list[httpx.Request]:
        return [call.request for call in self.router.calls[self._seen :]]

    def amount_on_wire(self, request: httpx.Request) -> Any:
        return biz(request)["total_amount"]

    async def reference_for(self, operation: str) -> str:
        return REFERENCE

    def webhook(self, scenario: str) -> tuple[dict[str, str], bytes]:
        headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
        if scenario == "rotated":
            return headers, urlencode(NODESDK_VECTOR["notify_form"]).encode("ascii")
        if scenario == "unknown_type":
            return headers, FIXTURES.raw("notify/unknown_type.txt")
        body = FIXTURES.raw("notify/trade_success.txt")
        if scenario == "tampered":
            return headers, body.replace(b"total_amount=25.00", b"total_amount=2500.00")
        fields = form(body)
        if scenario == "wrong_secret":
            return headers, signed_notification(fields, STRANGER_KEY)
        if scenario == "missing_header":
            del fields["sign"]
            return headers, urlencode(fields).encode("ascii")
        return headers, body

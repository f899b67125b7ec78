"""WeChat Pay API v3 signatures and the notification cipher, exact to the byte.

Requests (merchant key, SHA256withRSA, base64), five lines each ending in "\\n":

    METHOD \\n PATH?QUERY (as sent) \\n TIMESTAMP \\n NONCE \\n BODY (as sent, "" for GET) \\n

    Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",timestamp="..",
                   serial_no="<merchant certificate serial>",signature=".."

Responses and notifications (platform key named by `Wechatpay-Serial`):

    Wechatpay-Timestamp \\n Wechatpay-Nonce \\n BODY (raw bytes, "" for 204) \\n

    rejected unless |now - timestamp| < 300 s (the official SDKs' rule)

JSAPI payment parameters (merchant key): appId \\n timeStamp \\n nonceStr \\n package \\n.

Notification resources: AEAD_AES_256_GCM with the APIv3 key, the resource's 12-character
nonce and its associated_data; the ciphertext ends with the 16-byte tag.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatewayhub.provider import WebhookVerificationError
from gatewayhub_wechatpay.keys import PlatformKeys

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
TOLERANCE_SECONDS = 300
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


def new_nonce() -> str:
    """A random 32-character nonce (the length WeChat's SDKs use)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(32))


def request_message(method: str, url: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The bytes a request is signed over; `url` is the path and query exactly as sent."""
    head = f"{method}\n{url}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def sign(key: RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA, base64."""
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def authorization(
    key: RSAPrivateKey,
    *,
    mchid: str,
    serial_no: str,
    method: str,
    url: str,
    timestamp: int,
    nonce: str,
    body: bytes,
) -> str:
    """The Authorization header of one request."""
    signature = sign(key, request_message(method, url, timestamp, nonce, body))
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",timestamp="{timestamp}",'
        f'serial_no="{serial_no}",signature="{signature}"'
    )


def jsapi_parameters(
    key: RSAPrivateKey, *, appid: str, prepay_id: str, timestamp: int, nonce: str
) -> dict[str, str]:
    """What the JSAPI / mini-program front end passes to `requestPayment`, signed."""
    package = f"prepay_id={prepay_id}"
    message = f"{appid}\n{timestamp}\n{nonce}\n{package}\n".encode()
    return {
        "appId": appid,
        "timeStamp": str(timestamp),
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": sign(key, message),
    }


def verify(platform: PlatformKeys, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Raise `WebhookVerificationError` unless a response or notification is signed by a
    configured platform key and fresh. `headers` must have lower-case names."""
    needed = ("wechatpay-serial", "wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce")
    missing = [name for name in needed if not headers.get(name)]
    if missing:
        raise WebhookVerificationError("missing_header", f"missing {', '.join(missing)}")
    kind = headers.get("wechatpay-signature-type", SCHEMA)
    if kind != SCHEMA:
        raise WebhookVerificationError("unsupported", f"signature type {kind!r}")
    stamp = headers["wechatpay-timestamp"]
    if not stamp.isdigit():
        raise WebhookVerificationError("malformed", "Wechatpay-Timestamp is not a Unix time")
    serial = headers["wechatpay-serial"]
    key = platform.get(serial)
    if key is None:
        raise WebhookVerificationError(
            "bad_signature", f"no platform certificate or public key with serial {serial!r}"
        )
    try:
        signature = base64.b64decode(headers["wechatpay-signature"], validate=True)
        message = f"{stamp}\n{headers['wechatpay-nonce']}\n".encode() + body + b"\n"
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        raise WebhookVerificationError(
            "bad_signature", f"the signature does not verify with serial {serial!r}"
        ) from None
    if abs(now.timestamp() - int(stamp)) >= TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            "expired", f"Wechatpay-Timestamp is {TOLERANCE_SECONDS} s or more from now"
        )


def decrypt(key: bytes, nonce: str, ciphertext: str, associated_data: str) -> bytes:
    """A notification resource's plaintext; raises `InvalidTag` (or ValueError for bad
    base64) when the key, nonce, data or tag do not match."""
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except binascii.Error:
        raise ValueError("ciphertext is not base64") from None
    return AESGCM(key).decrypt(nonce.encode(), data, associated_data.encode())

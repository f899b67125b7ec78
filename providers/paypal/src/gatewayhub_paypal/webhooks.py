"""PayPal webhooks: the certificate scheme, and parsing.

PayPal signs `transmission_id|transmission_time|webhook_id|crc32(body)` (the CRC32 of the
raw body as an unsigned decimal; `webhook_id` is the id of *our* subscription, never taken
from the request) with SHA256withRSA, and names the signing certificate's URL in
`PAYPAL-CERT-URL` (paypal/PayPal-Python-SDK `notifications.py`). Anyone can name a URL, so
the certificate is only fetched from https URLs on PayPal's own hosts, under
`/v1/notifications/certs/`; TLS to that host is what vouches for it. The certificate must be
within its validity dates and issued to a `*.paypal.com` name. The transmission time is
signed, so a tolerance window refuses replays of old deliveries; the inbox dedupes by id.

The alternative, PayPal's verify-webhook-signature API, lives in the provider (it needs the
account's token); `verification_request` builds its body around the raw bytes received.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub_paypal import transform, wire

CERT_HOSTS = (
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
)
CERT_PATH = "/v1/notifications/certs/"
ALGORITHMS = {"SHA256withRSA": hashes.SHA256}  # SHA1withRSA is refused, not downgraded to
_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)


@dataclass(frozen=True, slots=True)
class Transmission:
    """The signature headers of one delivery."""

    id: str
    time: str  # exactly as sent: it is part of the signed message
    sent_at: datetime
    signature: bytes
    cert_url: str
    auth_algo: str
    raw_signature: str


def read_headers(headers: Mapping[str, str]) -> Transmission:
    """The PAYPAL-* headers, strictly parsed."""
    lowered = {key.lower(): value for key, value in headers.items()}
    missing = [name for name in _HEADERS if not lowered.get(name)]
    if missing:
        raise WebhookVerificationError("missing_header", f"missing {', '.join(missing)}")
    time = lowered["paypal-transmission-time"].strip()
    try:
        sent_at = datetime.fromisoformat(time)
    except ValueError:
        raise WebhookVerificationError(
            "malformed", "PAYPAL-TRANSMISSION-TIME is not RFC 3339"
        ) from None
    if sent_at.tzinfo is None:
        raise WebhookVerificationError("malformed", "PAYPAL-TRANSMISSION-TIME has no zone")
    raw_signature = lowered["paypal-transmission-sig"].strip()
    try:
        signature = base64.b64decode(raw_signature, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            "malformed", "PAYPAL-TRANSMISSION-SIG is not base64"
        ) from None
    return Transmission(
        id=lowered["paypal-transmission-id"].strip(),
        time=time,
        sent_at=sent_at,
        signature=signature,
        cert_url=lowered["paypal-cert-url"].strip(),
        auth_algo=lowered["paypal-auth-algo"].strip(),
        raw_signature=raw_signature,
    )


def check_fresh(transmission: Transmission, now: datetime, tolerance: timedelta) -> None:
    """Refuse a transmission time further than `tolerance` from now, either way."""
    if abs(now - transmission.sent_at) > tolerance:
        raise WebhookVerificationError(
            "expired", f"transmitted at {transmission.time}, outside the {tolerance} window"
        )


def pinned_cert_url(url: str, hosts: Sequence[str]) -> str:
    """`url` if it is an https URL under /v1/notifications/certs/ on one of `hosts`;
    anything else is refused before any request is made."""
    refused = WebhookVerificationError(
        "bad_signature", "PAYPAL-CERT-URL is not a PayPal certificate URL"
    )
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in url):
        raise refused
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refused from None
    if (
        parts.scheme != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or (parts.hostname or "") not in {h.lower() for h in hosts}
        or not parts.path.startswith(CERT_PATH)
        or ".." in parts.path
    ):
        raise refused
    return url


def crc32(body: bytes) -> str:
    """The CRC32 of the raw body as PayPal signs it: unsigned, in decimal."""
    return str(zlib.crc32(body) & 0xFFFFFFFF)


def signed_message(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs for one of our webhook subscriptions."""
    return f"{transmission_id}|{time}|{webhook_id}|{crc32(body)}".encode()


def load_certificate(pem: bytes) -> x509.Certificate:
    """The signing (first) certificate of a PEM document."""
    try:
        return x509.load_pem_x509_certificates(pem)[0]
    except ValueError:
        raise WebhookVerificationError("bad_signature", "unreadable PayPal certificate") from None


def check_certificate(cert: x509.Certificate, now: datetime) -> None:
    """Refuse a certificate outside its validity dates or not issued to a PayPal name."""
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise WebhookVerificationError("bad_signature", "the signing certificate is not valid now")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value).lower() if names else ""
    if not common_name.endswith(".paypal.com"):
        raise WebhookVerificationError("bad_signature", "the certificate is not PayPal's")


def verify_signature(
    cert: x509.Certificate,
    transmission: Transmission,
    body: bytes,
    webhook_ids: Sequence[str],
    now: datetime,
) -> None:
    """Raise unless `cert` signed this delivery for one of our `webhook_ids` (several
    during a rotation: an old and a new subscription)."""
    algorithm = ALGORITHMS.get(transmission.auth_algo)
    if algorithm is None:
        raise WebhookVerificationError(
            "unsupported", f"PAYPAL-AUTH-ALGO {transmission.auth_algo!r} is not accepted"
        )
    check_certificate(cert, now)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookVerificationError("bad_signature", "the certificate's key is not RSA")
    for webhook_id in webhook_ids:
        message = signed_message(transmission.id, transmission.time, webhook_id, body)
        try:
            key.verify(transmission.signature, message, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            continue
        return
    raise WebhookVerificationError("bad_signature", "PAYPAL-TRANSMISSION-SIG does not verify")


def verification_request(transmission: Transmission, body: bytes, webhook_id: str) -> bytes:
    """The body of POST /v1/notifications/verify-webhook-signature. The event goes in as the
    bytes received: PayPal checks the signature over them, and re-serializing could change
    them (number formats, key order, escapes)."""
    try:
        json.loads(body)
    except ValueError:
        raise WebhookVerificationError("malformed", "the webhook body is not JSON") from None
    head = json.dumps(
        {
            "auth_algo": transmission.auth_algo,
            "cert_url": transmission.cert_url,
            "transmission_id": transmission.id,
            "transmission_sig": transmission.raw_signature,
            "transmission_time": transmission.time,
            "webhook_id": webhook_id,
        },
        separators=(",", ":"),
    )
    return head[:-1].encode() + b',"webhook_event":' + body + b"}"


def parse(body: bytes) -> list[ProviderEvent]:
    """The single event of a PayPal webhook."""
    try:
        item = wire.Event.model_validate(json.loads(body))
        return [transform.event(item)]
    except (ValueError, ValidationError) as exc:
        raise WebhookVerificationError("malformed", f"not a PayPal event: {exc}") from None

"""Webhook signature verifications per second: gatewayhub's verifiers against the official SDKs'.

Same payloads, same process, rounds alternating the verifiers. The payloads are the
known-answer vectors in ../shared/providers/vectors (copied into the provider packages'
tests): before any timing, every verifier must accept its vector and refuse it with one
byte of the signature changed, so what is timed is a verification that really happened.

    scheme             gatewayhub                                 official SDK
    Stripe-Signature   gatewayhub_stripe.webhooks.verify          stripe.WebhookSignature.verify_header
    Razorpay           gatewayhub_razorpay.webhooks.verify        razorpay.Utility.verify_webhook_signature
    Adyen HMAC         gatewayhub_adyen.webhooks.verify (body)    Adyen.util.is_valid_hmac_notification
    Standard Webhooks  gatewayhub.webhooks.standard.verify        standardwebhooks.Webhook.verify

Each side is given what it needs from the same request: gatewayhub's verifiers take the
headers and the raw body (bytes), as a web framework hands them over; the SDK helpers take
what their documentation shows (Stripe and Razorpay the body and the header value, Adyen the
parsed JSON, so `json.loads` of the body is timed with it, Standard Webhooks the body and
the headers). Age checks: the Stripe and Standard Webhooks vectors are signed in the past,
so the Stripe pair runs with the age check off on both sides; Standard Webhooks' SDK always
compares with the wall clock, so that pair verifies a fresh message signed by the SDK's own
`sign` (gatewayhub's verifier also checks the vector itself with `now` at its timestamp).

    python benchmarks/webhook_verify.py [--number 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from gatewayhub.provider import WebhookVerificationError
from gatewayhub.webhooks import standard
from gatewayhub_adyen import webhooks as adyen_webhooks
from gatewayhub_razorpay import webhooks as razorpay_webhooks
from gatewayhub_stripe import webhooks as stripe_webhooks

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT.parent / "shared" / "providers" / "vectors"
if not VECTORS.is_dir():  # a checkout without the shared folder: the copies in the tests
    VECTORS = ROOT / "providers" / "stripe" / "tests" / "vectors"
RAZORPAY_VECTORS = ROOT / "providers" / "razorpay" / "tests" / "vectors"
HEADING = "## Webhook verification: gatewayhub vs the official SDKs"
Verify = Callable[[], object]


class Pair:
    """One scheme: gatewayhub's verifier and the SDK's, each as a no-argument call that
    raises (or returns False) unless the signature is valid, plus the same with a forged
    signature for the check before timing."""

    def __init__(self, scheme: str, note: str) -> None:
        self.scheme = scheme
        self.note = note
        self.sides: dict[str, tuple[str, Verify, Verify] | None] = {}

    def add(self, side: str, name: str, valid: Verify, forged: Verify) -> None:
        self.sides[side] = (name, valid, forged)


def _accepts(call: Verify) -> bool:
    try:
        return call() is not False
    except (WebhookVerificationError, ValueError) as exc:
        raise AssertionError(f"a valid vector was refused: {exc}") from exc
    except Exception as exc:  # the SDKs' own exception types
        raise AssertionError(f"a valid vector was refused: {exc!r}") from exc


def _refuses(call: Verify) -> bool:
    try:
        return call() is False
    except Exception:  # every verifier's refusal, whatever its type
        return True


def _forge(signature: str) -> str:
    """The signature with its first character changed: still well-formed hex or base64, and
    a change to the decoded bytes (the last base64 character may only carry padding bits)."""
    return ("b" if signature[0] == "a" else "a") + signature[1:]


def _core6() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(
        (VECTORS / "core6_webhook_vectors.json").read_text()
    )["vectors"]
    return vectors


def stripe_pair() -> Pair:
    import stripe  # noqa: PLC0415 (an SDK may be missing: its pair is skipped)

    vector = next(v for v in _core6() if v["provider"] == "stripe" and v["timestamp"] == 1700000000)
    body, header, secret = vector["payload"].encode(), vector["header"], vector["secret"]
    value = header.split("v1=", 1)[1]
    forged = header.replace(f"v1={value}", f"v1={_forge(value)}")
    now = datetime.fromtimestamp(vector["timestamp"], UTC)
    pair = Pair("Stripe-Signature v1", "age check off on both sides (vector signed in 2023)")
    pair.add(
        "gatewayhub",
        "`gatewayhub_stripe.webhooks.verify`",
        lambda: stripe_webhooks.verify([secret], {"Stripe-Signature": header}, body, now, 0),
        lambda: stripe_webhooks.verify([secret], {"Stripe-Signature": forged}, body, now, 0),
    )
    pair.add(
        "sdk",
        f"`stripe.WebhookSignature.verify_header` ({stripe.VERSION})",
        lambda: stripe.WebhookSignature.verify_header(body, header, secret, None),
        lambda: stripe.WebhookSignature.verify_header(body, forged, secret, None),
    )
    return pair


def razorpay_pair() -> tuple[Pair, Pair]:
    import razorpay  # type: ignore[import-untyped]  # noqa: PLC0415

    sheet = json.loads((RAZORPAY_VECTORS / "razorpay_callback_signatures.json").read_text())
    vector = next(v for v in sheet["vectors"] if v["id"] == "R4")
    body = (RAZORPAY_VECTORS / vector["body_file"]).read_bytes()
    secret, signature = vector["secret"], vector["signature"]
    forged = _forge(signature)
    created = datetime.fromtimestamp(json.loads(body)["created_at"], UTC)
    utility = razorpay.Utility()
    version = metadata.version("razorpay")
    plain = Pair("Razorpay X-Razorpay-Signature", "no age check (the SDK has none)")
    aged = Pair(
        "Razorpay, with gatewayhub's default age check",
        "gatewayhub also parses the body for the signed `created_at` (25 h window)",
    )
    for pair, max_age in ((plain, None), (aged, timedelta(hours=25))):
        pair.add(
            "gatewayhub",
            "`gatewayhub_razorpay.webhooks.verify`",
            lambda max_age=max_age: razorpay_webhooks.verify(
                [secret], {"X-Razorpay-Signature": signature}, body, created, max_age
            ),
            lambda max_age=max_age: razorpay_webhooks.verify(
                [secret], {"X-Razorpay-Signature": forged}, body, created, max_age
            ),
        )
        pair.add(
            "sdk",
            f"`razorpay.Utility.verify_webhook_signature` ({version})",
            lambda: utility.verify_webhook_signature(body.decode(), signature, secret),
            lambda: utility.verify_webhook_signature(body.decode(), forged, secret),
        )
    return plain, aged


def adyen_pair() -> Pair:
    from Adyen import util  # type: ignore[import-untyped]  # noqa: PLC0415

    vector = next(v for v in _core6() if v["provider"] == "adyen" and "item" in v)
    key = vector["hmac_key_hex"]

    def body_with(signature: str) -> bytes:
        item = {**vector["item"], "additionalData": {"hmacSignature": signature}}
        return json.dumps(
            {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
        ).encode()

    body, forged = body_with(vector["expected"]), body_with(_forge(vector["expected"]))
    pair = Pair("Adyen notification HMAC", "one item; the SDK is given `json.loads(body)`")
    pair.add(
        "gatewayhub",
        "`gatewayhub_adyen.webhooks.verify`",
        lambda: adyen_webhooks.verify([key], body),
        lambda: adyen_webhooks.verify([key], forged),
    )
    pair.add(
        "sdk",
        f"`Adyen.util.is_valid_hmac_notification` ({metadata.version('Adyen')})",
        lambda: util.is_valid_hmac_notification(json.loads(body), key),
        lambda: util.is_valid_hmac_notification(json.loads(forged), key),
    )
    return pair


def standard_pair() -> Pair:
    from standardwebhooks.webhooks import Webhook  # type: ignore[import-untyped]  # noqa: PLC0415

    sheet = json.loads((VECTORS / "standard_webhooks_vectors.json").read_text())["vectors"]
    vector = next(v for v in sheet if v["id"] == "stdwh-v1-sign-1")
    secret, message_id, body = vector["secret"], vector["webhook_id"], vector["body"].encode()
    at = datetime.fromtimestamp(vector["webhook_timestamp"], UTC)
    known = {
        "webhook-id": message_id,
        "webhook-timestamp": str(vector["webhook_timestamp"]),
        "webhook-signature": vector["expected_signature_header"],
    }
    # The known answer, before the fresh message is used for timing.
    standard.verify([secret], known, body, at)
    sdk = Webhook(secret)
    assert sdk.sign(message_id, at, body.decode()) == vector["expected_signature_header"]
    now = datetime.now(UTC)
    fresh = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sdk.sign(message_id, now, body.decode()),
    }
    forged = {**fresh, "webhook-signature": "v1," + _forge(fresh["webhook-signature"][3:])}
    pair = Pair("Standard Webhooks v1", "a fresh message signed by the SDK; both check the age")
    pair.add(
        "gatewayhub",
        "`gatewayhub.webhooks.standard.verify`",
        lambda: standard.verify([secret], fresh, body, datetime.now(UTC)),
        lambda: standard.verify([secret], forged, body, datetime.now(UTC)),
    )
    pair.add(
        "sdk",
        f"`standardwebhooks.Webhook.verify` ({metadata.version('standardwebhooks')}, json_parse=False)",
        lambda: sdk.verify(body, fresh, json_parse=False),
        lambda: sdk.verify(body, forged, json_parse=False),
    )
    return pair


def pairs() -> list[Pair]:
    found: list[Pair] = []
    builders: list[Callable[[], Pair | tuple[Pair, ...]]] = [
        stripe_pair,
        razorpay_pair,
        adyen_pair,
        standard_pair,
    ]
    for build in builders:
        try:
            built = build()
        except ImportError as exc:  # an SDK not installed: pip install -e '.[bench]'
            print(f"skipped: {exc}")
            continue
        found.extend(built if isinstance(built, tuple) else (built,))
    for pair in found:
        for side, entry in pair.sides.items():
            assert entry is not None
            name, valid, forged = entry
            assert _accepts(valid), f"{pair.scheme} {side} {name}: refused its vector"
            assert _refuses(forged), f"{pair.scheme} {side} {name}: accepted a forged signature"
    return found


def measure(number: int = 20000, rounds: int = 5) -> str:
    found = pairs()
    per_second: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for pair in found:
            for side, entry in pair.sides.items():
                assert entry is not None
                seconds = timeit.Timer(entry[1], timer=time.process_time).timeit(number)
                per_second.setdefault((pair.scheme, side), []).append(number / seconds)
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        f"Command: `python benchmarks/webhook_verify.py --number {number} --rounds {rounds}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, Python "
        f"{platform.python_version()}; measured {time.strftime('%Y-%m-%d')} (load average "
        f"{load:.1f} at the end).",
        "Setup: the known-answer vectors of ../shared/providers/vectors; every verifier accepts "
        "its vector and refuses a forged signature before it is timed. Verifications per "
        f"second of CPU time (`time.process_time`), {number:,} per round, median of {rounds} "
        "rounds alternating the verifiers; one process, one core.",
        "",
        "| scheme | gatewayhub | verifications/s | official SDK | verifications/s | gatewayhub / SDK | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for pair in found:
        ours, theirs = pair.sides["gatewayhub"], pair.sides["sdk"]
        assert ours is not None
        assert theirs is not None
        a = statistics.median(per_second[(pair.scheme, "gatewayhub")])
        b = statistics.median(per_second[(pair.scheme, "sdk")])
        lines.append(
            f"| {pair.scheme} | {ours[0]} | {a:,.0f} | {theirs[0]} | {b:,.0f} | "
            f"**{a / b:.2f}x** | {pair.note} |"
        )
    lines += [
        "",
        "gatewayhub's verifiers do more than the SDK helpers on purpose: several secrets "
        "(rotation) each compared without early exit, strict header parsing, and (Adyen) "
        "every item of a batch rather than the first.",
    ]
    return "\n".join(lines) + "\n"


def report(quick: bool = False) -> str:
    """This benchmark's section of docs/benchmarks.md."""
    return measure(number=2000, rounds=2) if quick else measure()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--number", type=int, default=20000, help="verifications per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(measure(args.number, args.rounds), end="")


if __name__ == "__main__":
    main()

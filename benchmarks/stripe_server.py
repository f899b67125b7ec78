"""A local Stripe-compatible server for the side-by-side benchmarks (not an emulator for tests).

It answers what a card charge through the PaymentIntents API needs, in Stripe's wire format:

    POST /v1/payment_intents       form-encoded, created and confirmed in one call: a
                                   PaymentIntent `succeeded` (capture_method automatic) or
                                   `requires_capture` (manual), `latest_charge` a charge id
    GET  /v1/payment_intents/{id}  the stored PaymentIntent (`expand[]=latest_charge` expands
                                   the charge), what gatewayhub's adapter asks after a lost answer

with Stripe's authentication (`Authorization: Bearer <secret key>`, 401 otherwise) and its
idempotency (`Idempotency-Key`: a replay with the same body gets the stored answer and
`Idempotent-Replayed: true`, with another body a 400 `idempotency_error`). The JSON is
pretty-printed like Stripe's. Every client in the benchmark parses the same bytes.

It is a bare asyncio HTTP/1.1 server (keep-alive, Content-Length bodies): it runs in its own
process, and being cheap keeps the machine's two cores for the client being measured.

    python benchmarks/stripe_server.py --port 8702 [--key sk_test_...]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import socket
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_benchLocal0000000000000000"
API_VERSION = "2026-10-28.endive"  # what stripe-python 16.1.0 and gatewayhub's adapter pin
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
Answer = tuple[int, bytes, list[tuple[str, str]]]


def _error(status: int, type_: str, message: str, code: str | None = None) -> Answer:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code is not None:
        error["code"] = code
    return status, json.dumps({"error": error}, indent=2).encode(), []


class StripeLike:
    """The state and the routes: PaymentIntents and charges by id, answers by idempotency key."""

    def __init__(self, secret_key: str) -> None:
        self.authorization = f"Bearer {secret_key}"
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, tuple[str, Answer]] = {}
        self.counter = itertools.count(1)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        if headers.get("authorization") != self.authorization:
            return _error(401, "invalid_request_error", "Invalid API Key provided.")
        url = urlsplit(target)
        path = url.path
        if method == "POST" and path == "/v1/payment_intents":
            key = headers.get("idempotency-key")
            if key is None:
                return self.create(body)
            fingerprint = hashlib.sha256(body).hexdigest()
            stored = self.answers.get(key)
            if stored is not None:
                if stored[0] != fingerprint:
                    return _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                    )
                status, payload, extra = stored[1]
                return status, payload, [*extra, ("Idempotent-Replayed", "true")]
            answer = self.create(body)
            self.answers[key] = (fingerprint, answer)
            return status_with(answer, ("Idempotency-Key", key))
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(path.rsplit("/", 1)[1])
            if intent is None:
                return _error(
                    404, "invalid_request_error", "No such payment_intent.", "resource_missing"
                )
            expand = [v for k, v in parse_qsl(url.query) if k == "expand[]"]
            if "latest_charge" in expand and intent["latest_charge"] is not None:
                intent = {**intent, "latest_charge": self.charges[intent["latest_charge"]]}
            return 200, json.dumps(intent, indent=2).encode(), []
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def create(self, body: bytes) -> Answer:
        form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        fields = dict(form)
        metadata = {k[9:-1]: v for k, v in form if k.startswith("metadata[")}
        amount_text = fields.get("amount", "")
        if not amount_text.isdigit() or int(amount_text) < 1:
            return _error(
                400, "invalid_request_error", "Invalid integer: amount", "parameter_invalid_integer"
            )
        if "currency" not in fields or "payment_method" not in fields:
            return _error(
                400, "invalid_request_error", "Missing required param.", "parameter_missing"
            )
        amount, currency = int(amount_text), fields["currency"].lower()
        capture = fields.get("capture_method", "automatic")
        confirmed = fields.get("confirm") == "true"
        number = next(self.counter)
        intent_id, charge_id = f"pi_3Bench{number:019d}", f"ch_3Bench{number:019d}"
        created = int(time.time())
        status = "requires_confirmation"
        if confirmed:
            status = "succeeded" if capture == "automatic" else "requires_capture"
        received = amount if status == "succeeded" else 0
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": amount if status == "requires_capture" else 0,
            "amount_details": {"tip": {}},
            "amount_received": received,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": {
                "allow_redirects": fields.get(
                    "automatic_payment_methods[allow_redirects]", "always"
                ),
                "enabled": fields.get("automatic_payment_methods[enabled]") == "true",
            },
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture,
            "client_secret": f"{intent_id}_secret_bench",
            "confirmation_method": "automatic",
            "created": created,
            "currency": currency,
            "customer": None,
            "description": fields.get("description"),
            "last_payment_error": None,
            "latest_charge": charge_id if confirmed else None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": fields["payment_method"],
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": status,
            "transfer_data": None,
            "transfer_group": None,
        }
        self.intents[intent_id] = intent
        if confirmed:
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": received,
                "amount_refunded": 0,
                "captured": status == "succeeded",
                "created": created,
                "currency": currency,
                "livemode": False,
                "metadata": metadata,
                "paid": True,
                "payment_intent": intent_id,
                "payment_method": fields["payment_method"],
                "refunded": False,
                "status": "succeeded",
            }
        return 200, json.dumps(intent, indent=2).encode(), [("Original-Request", f"req_{number}")]


def status_with(answer: Answer, header: tuple[str, str]) -> Answer:
    status, payload, extra = answer
    return status, payload, [*extra, header]


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; bodies by Content-Length (what httpx sends for a form)."""

    def __init__(self, app: StripeLike) -> None:
        self.app = app
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.requests = itertools.count(1)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            status, payload, extra = self.app.handle(method, target, headers, body)
            self.transport.write(self._head(status, len(payload), extra) + payload)
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                self.transport = None

    def _head(self, status: int, length: int, extra: list[tuple[str, str]]) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
            "Server: nginx",
            f"Date: {formatdate(usegmt=True)}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
            "Connection: keep-alive",
            "Cache-Control: no-cache, no-store",
            f"Request-Id: req_bench{next(self.requests):014d}",
            f"Stripe-Version: {API_VERSION}",
            *(f"{k}: {v}" for k, v in extra),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, secret_key: str) -> None:
    app = StripeLike(secret_key)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(app), "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, secret_key: str = SECRET_KEY) -> subprocess.Popen[bytes]:
    """This server in a child process, once it accepts connections."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--port", str(port), "--key", secret_key],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the Stripe-compatible server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--key", default=SECRET_KEY, help="the secret key clients must send")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.key))


if __name__ == "__main__":
    main()

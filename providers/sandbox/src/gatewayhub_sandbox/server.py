"""The sandbox emulator: a small payment provider with its own API, state and webhooks.

It behaves like a real provider where gatewayhub's correctness depends on it:

- authentication with a secret key (401 otherwise);
- its own idempotency: a POST with an `Idempotency-Key` seen before with the same body is
  answered with the stored response (`Idempotent-Replayed: true`), with a different body
  is refused (422), and while the first is still running is refused (409);
- declines as HTTP 402 with a code and an advice, 3-D Secure as `requires_action` with a
  challenge page, async payments that settle later, refunds (partial, several);
- faults on demand: magic tokens (see `cards`), per-instance latency, unavailability (503),
  a random failure rate, and a seeded fault plan (see `faults`: errors and dropped
  connections before and after the work, slow and hanging answers, 429 storms, outage
  windows, webhooks lost, duplicated, delayed and reordered);
- signed webhooks (Standard Webhooks v1) for every state change, posted to a URL or handed
  to an in-process callback.

Its full record of charges, captures and refunds (`GET /_sandbox/charges`) is the
provider-side truth that tests compare gatewayhub's ledger against.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import urllib.parse
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gatewayhub.clock import Clock, SystemClock
from gatewayhub.fees import CompiledFees, FeeSchedule
from gatewayhub.ids import new_id
from gatewayhub.models import PaymentMethodType
from gatewayhub.provider import WebhookSink
from gatewayhub.webhooks.standard import sign_headers
from gatewayhub_sandbox import cards
from gatewayhub_sandbox.faults import FAULT_HEADER, FaultInjector, FaultPlan

log = logging.getLogger("gatewayhub.sandbox")


class EmulatorConfig(BaseModel):
    """One sandbox instance."""

    model_config = ConfigDict(extra="forbid")

    name: str = "sandbox"
    api_key: str
    webhook_secret: str
    currencies: frozenset[str]
    fees: FeeSchedule = Field(default_factory=FeeSchedule)
    country: str | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    available: bool = True
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    hang_seconds: float = Field(default=30.0, ge=0)
    retry_after_seconds: int = Field(default=1, ge=0)
    pending_settle_ms: float = Field(default=200.0, ge=0)
    webhook_url: str | None = None
    webhook_delay_ms: float = Field(default=0.0, ge=0)
    public_url: str = "http://sandbox.invalid"
    seed: int = 0
    faults: FaultPlan = Field(default_factory=FaultPlan)


class ConnectionDropped(Exception):
    """Raised into the server once an answer has started: the connection closes mid-answer
    (uvicorn closes it; the in-process transport turns it into httpx's protocol error)."""


class DroppingApp:
    """An ASGI app whose handlers can make the connection drop mid-answer."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; once a handler set `drop`, the body is never sent."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = scope["sandbox"] = _Exchange()

        async def send_or_drop(message: Message) -> None:
            if exchange.drop and message["type"] == "http.response.body":
                raise ConnectionDropped(exchange.identity)
            await send(message)

        await self.app(scope, receive, send_or_drop)


@dataclass
class _Exchange:
    """Per-request fault state, carried in the ASGI scope."""

    identity: str = ""
    drop: bool = False


class _ChargeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    source: str = Field(min_length=1)
    capture: bool = True
    reference: str | None = None
    description: str | None = None
    return_url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class _CaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, gt=0)
    final: bool = True


class _RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, gt=0)
    reason: str | None = None
    reference: str | None = None


@dataclass
class Charge:
    """A charge as the sandbox stores it."""

    id: str
    amount: int
    currency: str
    status: str
    capture: bool
    source: str
    created: int
    reference: str | None = None
    description: str | None = None
    idempotency_key: str | None = None
    amount_captured: int = 0
    amount_refunded: int = 0
    fee: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    advice: str | None = None
    return_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    next_action: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """The charge as the API returns it."""
        body = {"object": "charge", **asdict(self)}
        body.pop("source")
        return body


@dataclass
class RefundRecord:
    """A refund as the sandbox stores it."""

    id: str
    charge: str
    amount: int
    currency: str
    status: str
    created: int
    reference: str | None = None
    reason: str | None = None
    failure_code: str | None = None

    def wire(self) -> dict[str, Any]:
        """The refund as the API returns it."""
        return {"object": "refund", **asdict(self)}


@dataclass
class _KeyEntry:
    fingerprint: str
    in_progress: bool = True
    status: int = 0
    body: bytes = b""


@dataclass(frozen=True)
class _Outcome:
    """What a handler produced: the response now, what a replay returns, and a delay."""

    status: int
    body: dict[str, Any]
    stored: tuple[int, dict[str, Any]] | None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def _internal_error() -> Response:
    return JSONResponse(
        {
            "error": {
                "type": "api_error",
                "code": "internal_error",
                "message": "Something went wrong.",
            }
        },
        status_code=500,
    )


def _failed_before(exchange: _Exchange, fault: str | None) -> Response | None:
    """The answer of a fault that strikes before any work: a 500, or a dropped connection."""
    if fault == "reset_before":
        exchange.drop = True
    if fault in ("error_before", "reset_before"):
        return _internal_error()
    return None


def _error(status: int, type_: str, code: str, message: str, **extra: Any) -> _Outcome:
    body = {"error": {"type": type_, "code": code, "message": message, **extra}}
    return _Outcome(status, body, (status, body) if status < 500 and status != 429 else None)


class Emulator:
    """One running sandbox provider (mount `app` in uvicorn or an httpx ASGI transport)."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Clock | None = None,
        deliver: WebhookSink | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.deliver = deliver
        self.rng = random.Random(config.seed)  # noqa: S311 - fault injection, not security
        self.fees = CompiledFees(config.fees, config.country, frozenset())
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self.events: list[dict[str, Any]] = []
        self.captures: list[dict[str, Any]] = []
        self.faults = FaultInjector(config.faults, self.clock.monotonic())
        self._held: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, _KeyEntry] = {}
        self._throttled: set[str] = set()
        self._hung: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        routes = Starlette(
            routes=[
                Route("/v1/charges", self._create, methods=["POST"]),
                Route("/v1/charges", self._search, methods=["GET"]),
                Route("/v1/charges/{id}", self._get_charge, methods=["GET"]),
                Route("/v1/charges/{id}/capture", self._capture, methods=["POST"]),
                Route("/v1/charges/{id}/void", self._void, methods=["POST"]),
                Route("/v1/charges/{id}/refunds", self._refund, methods=["POST"]),
                Route("/v1/refunds/{id}", self._get_refund, methods=["GET"]),
                Route("/challenge/{id}", self._challenge_page, methods=["GET"]),
                Route("/challenge/{id}", self._challenge_answer, methods=["POST"]),
                Route("/_sandbox/charges", self._all_charges, methods=["GET"]),
                Route("/_sandbox/events", self._all_events, methods=["GET"]),
                Route("/_sandbox/config", self._reconfigure, methods=["PATCH"]),
                Route("/_sandbox/faults", self._fault_report, methods=["GET"]),
                Route("/_sandbox/faults", self._install_faults, methods=["PUT"]),
            ]
        )
        self.app = DroppingApp(routes)

    # -- helpers ------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _id(self, prefix: str) -> str:
        return new_id(prefix, self.clock.now(), self.rng.randbytes(10))

    def _refused(self, request: Request) -> Response | None:
        """Authentication and availability, checked before anything else happens."""
        exchange: _Exchange = request.scope["sandbox"]
        exchange.identity = self.faults.identity(
            request.method,
            f"{request.url.path}?{request.url.query}",
            request.headers.get("idempotency-key"),
        )
        if request.headers.get("authorization") != f"Bearer {self.config.api_key}":
            return JSONResponse(
                {
                    "error": {
                        "type": "authentication_error",
                        "code": "invalid_api_key",
                        "message": "Invalid API key.",
                    }
                },
                status_code=401,
            )
        now = self.clock.monotonic()
        if self.faults.storming(exchange.identity, now):
            return JSONResponse(
                {
                    "error": {
                        "type": "rate_limit_error",
                        "code": "rate_limited",
                        "message": "Too many requests.",
                    }
                },
                status_code=429,
                headers={"Retry-After": str(self.config.retry_after_seconds)},
            )
        if (
            not self.config.available
            or self.faults.down(now)
            or (self.config.failure_rate and self.rng.random() < self.config.failure_rate)
        ):
            return JSONResponse(
                {
                    "error": {
                        "type": "api_error",
                        "code": "service_unavailable",
                        "message": "Try again later.",
                    }
                },
                status_code=503,
            )
        return None

    async def _latency(self) -> None:
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)

    def _fee(self, amount: int, currency: str) -> int:
        return self.fees.estimate(amount, currency, PaymentMethodType.CARD, None)

    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def _idempotent(self, request: Request, handler: Any, *args: Any) -> Response:
        """Run a POST handler under the sandbox's idempotency rules."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        await self._latency()
        exchange: _Exchange = request.scope["sandbox"]
        fault = self.faults.request_fault(
            exchange.identity, forced=request.headers.get(FAULT_HEADER), effects=True
        )
        failed = _failed_before(exchange, fault)
        if failed is not None:
            return failed
        key = request.headers.get("idempotency-key")
        raw = await request.body()
        if key is None:
            if fault == "slow":
                await asyncio.sleep(self.faults.plan.slow_seconds)
            outcome: _Outcome = await handler(request, None, *args)
            return await self._answer_later(exchange, fault, outcome)
        fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + raw).hexdigest()
        entry = self._keys.get(key)
        if entry is not None:
            if entry.fingerprint != fingerprint:
                return JSONResponse(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "code": "key_reused",
                            "message": "Keys for idempotent requests can only be used "
                            "with the same parameters.",
                        }
                    },
                    status_code=422,
                )
            if entry.in_progress:
                return JSONResponse(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "code": "request_in_progress",
                            "message": "A request with this key is still being processed.",
                        }
                    },
                    status_code=409,
                )
            return Response(
                entry.body,
                status_code=entry.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        entry = self._keys[key] = _KeyEntry(fingerprint)
        try:
            if fault == "slow":
                # The key is in progress meanwhile: a replay gets 409, a search 409 too.
                await asyncio.sleep(self.faults.plan.slow_seconds)
            outcome = await handler(request, key, *args)
        except BaseException:
            del self._keys[key]
            raise
        if outcome.stored is None:
            del self._keys[key]
        else:
            entry.status, stored_body = outcome.stored
            entry.body = json.dumps(stored_body).encode()
            entry.in_progress = False
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        return await self._answer_later(exchange, fault, outcome)

    async def _answer_later(
        self, exchange: _Exchange, fault: str | None, outcome: _Outcome
    ) -> Response:
        if fault == "timeout_after":
            await asyncio.sleep(self.faults.plan.hang_seconds)
        return self._answer(exchange, fault, outcome)

    @staticmethod
    def _answer(exchange: _Exchange, fault: str | None, outcome: _Outcome) -> Response:
        """The answer to a request whose work is done, as its fault makes it."""
        if fault == "error_after":
            return _internal_error()
        if fault == "reset_after":
            exchange.drop = True
        return JSONResponse(outcome.body, status_code=outcome.status, headers=outcome.headers)

    async def _read_fault(self, request: Request) -> Response | None:
        """Faults of a call that changes nothing: refusals, errors, drops, slowness."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        await self._latency()
        exchange: _Exchange = request.scope["sandbox"]
        fault = self.faults.request_fault(
            exchange.identity, forced=request.headers.get(FAULT_HEADER), effects=False
        )
        failed = _failed_before(exchange, fault)
        if failed is not None:
            return failed
        if fault == "slow":
            await asyncio.sleep(self.faults.plan.slow_seconds)
        return None

    # -- webhooks -----------------------------------------------------------------------------

    def _emit(self, type_: str, obj: dict[str, Any], request_key: str | None) -> None:
        event = {
            "id": self._id("evt"),
            "type": type_,
            "created": self._now(),
            "request_key": request_key,
            "data": {"object": obj},
        }
        self.events.append(event)
        if self.deliver is None and self.config.webhook_url is None:
            return
        charge_id = str(obj.get("charge") or obj.get("id"))
        identity = self.faults.identity("WEBHOOK", f"{type_} {charge_id}", request_key)
        fault = self.faults.webhook_fault(identity)
        if fault == "webhook_lost":
            return
        if fault == "webhook_reordered" and charge_id not in self._held:
            # Held back until this charge's next event has gone (or the hold runs out).
            self._held[charge_id] = event
            hold = self.faults.plan.reorder_hold_ms / 1000
            self._later(hold, lambda: self._release_held(charge_id))
            return
        delay = self.faults.webhook_delay(identity) if fault == "webhook_delayed" else 0.0
        self._dispatch(event, delay)
        if fault == "webhook_duplicated":
            self._dispatch(event, delay + self.faults.webhook_delay(identity + " again"))
        self._release_held(charge_id)

    def _release_held(self, charge_id: str) -> None:
        held = self._held.pop(charge_id, None)
        if held is not None:
            self._dispatch(held, 0.0)

    def _dispatch(self, event: dict[str, Any], delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._send(event, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, event: dict[str, Any], delay: float = 0.0) -> None:
        delay += self.config.webhook_delay_ms / 1000
        if delay:
            await asyncio.sleep(delay)
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            **sign_headers(self.config.webhook_secret, event["id"], self._now(), body),
        }
        if self.deliver is not None:
            try:
                await self.deliver(headers, body)
            except Exception:
                log.exception("%s: in-process webhook delivery failed", self.config.name)
            return
        assert self.config.webhook_url is not None
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(4):
                try:
                    response = await client.post(
                        self.config.webhook_url, content=body, headers=headers
                    )
                    if response.status_code < 300:
                        return
                except httpx.HTTPError as exc:
                    log.info("%s: webhook delivery failed: %s", self.config.name, exc)
                await asyncio.sleep(0.2 * 2**attempt)

    async def drain(self) -> None:
        """Wait until every scheduled webhook delivery and settlement has run."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _later(self, delay: float, action: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            action()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- charges ------------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        return await self._idempotent(request, self._create_charge)

    async def _create_charge(  # noqa: PLR0912 - one branch per magic token
        self, request: Request, key: str | None
    ) -> _Outcome:
        data = await self._body(request)
        try:
            params = _ChargeIn.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            return _error(
                400,
                "invalid_request_error",
                "parameter_invalid",
                first["msg"],
                param=".".join(str(p) for p in first["loc"]),
            )
        if params.currency not in self.config.currencies:
            return _error(
                400,
                "invalid_request_error",
                "currency_not_supported",
                f"{params.currency} is not supported by {self.config.name}.",
                param="currency",
            )
        source = params.source
        if not source.startswith("tok_"):
            return _error(
                400, "invalid_request_error", "token_invalid", "No such token.", param="source"
            )
        if source == cards.ERROR_BEFORE_CHARGE:
            return _Outcome(
                500,
                {
                    "error": {
                        "type": "api_error",
                        "code": "internal_error",
                        "message": "Something went wrong.",
                    }
                },
                None,
            )
        if source == cards.RATE_LIMITED and key not in self._throttled:
            if key is not None:
                self._throttled.add(key)
            return _Outcome(
                429,
                {
                    "error": {
                        "type": "rate_limit_error",
                        "code": "rate_limited",
                        "message": "Too many requests.",
                    }
                },
                None,
                headers={"Retry-After": str(self.config.retry_after_seconds)},
            )
        charge = Charge(
            id=self._id("ch"),
            amount=params.amount,
            currency=params.currency,
            status="pending",
            capture=params.capture,
            source=source,
            created=self._now(),
            reference=params.reference,
            description=params.description,
            idempotency_key=key,
            return_url=params.return_url,
            metadata=params.metadata,
        )
        self.charges[charge.id] = charge
        declined = cards.decline_code(source)
        if declined is not None:
            message, advice = cards.DECLINES[declined]
            charge.status = "failed"
            charge.failure_code, charge.failure_message, charge.advice = declined, message, advice
            self._emit("charge.failed", charge.wire(), key)
            return _error(402, "card_error", declined, message, advice=advice, charge=charge.id)
        if source == cards.THREE_DS:
            charge.status = "requires_action"
            charge.next_action = {
                "type": "redirect",
                "url": f"{self.config.public_url}/challenge/{charge.id}",
            }
            self._emit("charge.requires_action", charge.wire(), key)
            return self._stored(201, charge.wire())
        if source == cards.PENDING:
            self._later(self.config.pending_settle_ms / 1000, lambda: self._approve(charge, key))
            self._emit("charge.pending", charge.wire(), key)
            return self._stored(201, charge.wire())
        if source == cards.UNKNOWN_STATUS:
            charge.status = "under_review"
            return self._stored(201, charge.wire())
        self._approve(charge, key)
        body = charge.wire()
        if source == cards.ERROR_AFTER_CHARGE:
            error = {
                "error": {
                    "type": "api_error",
                    "code": "internal_error",
                    "message": "Something went wrong.",
                }
            }
            return _Outcome(500, error, (201, body))
        if source == cards.TIMEOUT_AFTER_CHARGE and key not in self._hung:
            if key is not None:
                self._hung.add(key)
            return _Outcome(201, body, (201, body), delay=self.config.hang_seconds)
        return self._stored(201, body)

    @staticmethod
    def _stored(status: int, body: dict[str, Any]) -> _Outcome:
        return _Outcome(status, body, (status, body))

    def _approve(self, charge: Charge, key: str | None) -> None:
        if charge.capture:
            charge.status = "captured"
            charge.amount_captured = charge.amount
            charge.fee = self._fee(charge.amount, charge.currency)
            self._emit("charge.captured", charge.wire(), key)
        else:
            charge.status = "authorized"
            self._emit("charge.authorized", charge.wire(), key)

    def _find(self, charge_id: str) -> Charge | None:
        return self.charges.get(charge_id)

    async def _get_charge(self, request: Request) -> Response:
        refused = await self._read_fault(request)
        if refused is not None:
            return refused
        charge = self._find(request.path_params["id"])
        if charge is None:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": "No such charge.",
                    }
                },
                status_code=404,
            )
        return JSONResponse(charge.wire())

    async def _search(self, request: Request) -> Response:
        refused = await self._read_fault(request)
        if refused is not None:
            return refused
        key = request.query_params.get("idempotency_key")
        running = self._keys.get(key) if key is not None else None
        if running is not None and running.in_progress:
            # The sandbox knows its own requests in flight: "no charge for this key" is
            # only said when no request with the key is still running.
            return JSONResponse(
                {
                    "error": {
                        "type": "idempotency_error",
                        "code": "request_in_progress",
                        "message": "A request with this key is still being processed.",
                    }
                },
                status_code=409,
            )
        reference = request.query_params.get("reference")
        found = [
            c.wire()
            for c in self.charges.values()
            if (key is None or c.idempotency_key == key)
            and (reference is None or c.reference == reference)
        ]
        return JSONResponse({"object": "list", "data": found})

    async def _capture(self, request: Request) -> Response:
        return await self._idempotent(request, self._capture_charge, request.path_params["id"])

    async def _capture_charge(self, request: Request, key: str | None, charge_id: str) -> _Outcome:
        charge = self._find(charge_id)
        if charge is None:
            return _error(404, "invalid_request_error", "resource_missing", "No such charge.")
        try:
            params = _CaptureIn.model_validate(await self._body(request))
        except ValidationError as exc:
            return _error(400, "invalid_request_error", "parameter_invalid", exc.errors()[0]["msg"])
        if charge.status not in ("authorized", "partially_captured"):
            return _error(
                400,
                "invalid_request_error",
                "charge_not_capturable",
                f"This charge is {charge.status} and cannot be captured.",
            )
        remaining = charge.amount - charge.amount_captured
        amount = params.amount or remaining
        if amount > remaining:
            return _error(
                400,
                "invalid_request_error",
                "amount_too_large",
                f"Only {remaining} remains capturable.",
            )
        charge.amount_captured += amount
        charge.fee += self._fee(amount, charge.currency)
        self.captures.append(
            {"charge": charge.id, "amount": amount, "request_key": key, "created": self._now()}
        )
        charge.status = (
            "captured"
            if params.final or charge.amount_captured == charge.amount
            else "partially_captured"
        )
        self._emit("charge.captured", charge.wire(), key)
        return self._stored(200, charge.wire())

    async def _void(self, request: Request) -> Response:
        return await self._idempotent(request, self._void_charge, request.path_params["id"])

    async def _void_charge(self, request: Request, key: str | None, charge_id: str) -> _Outcome:
        charge = self._find(charge_id)
        if charge is None:
            return _error(404, "invalid_request_error", "resource_missing", "No such charge.")
        if charge.status not in ("authorized", "requires_action"):
            return _error(
                400,
                "invalid_request_error",
                "charge_not_voidable",
                f"This charge is {charge.status} and cannot be voided.",
            )
        charge.status = "canceled"
        charge.next_action = None
        self._emit("charge.canceled", charge.wire(), key)
        return self._stored(200, charge.wire())

    async def _refund(self, request: Request) -> Response:
        return await self._idempotent(request, self._refund_charge, request.path_params["id"])

    async def _refund_charge(self, request: Request, key: str | None, charge_id: str) -> _Outcome:
        charge = self._find(charge_id)
        if charge is None:
            return _error(404, "invalid_request_error", "resource_missing", "No such charge.")
        try:
            params = _RefundIn.model_validate(await self._body(request))
        except ValidationError as exc:
            return _error(400, "invalid_request_error", "parameter_invalid", exc.errors()[0]["msg"])
        if charge.status not in ("captured", "partially_captured"):
            return _error(
                400,
                "invalid_request_error",
                "charge_not_refundable",
                f"This charge is {charge.status} and cannot be refunded.",
            )
        pending = sum(
            r.amount
            for r in self.refunds.values()
            if r.charge == charge.id and r.status == "pending"
        )
        available = charge.amount_captured - charge.amount_refunded - pending
        amount = params.amount or available
        if amount <= 0 or amount > available:
            return _error(
                400, "invalid_request_error", "amount_too_large", f"Only {available} is refundable."
            )
        refund = RefundRecord(
            id=self._id("re"),
            charge=charge.id,
            amount=amount,
            currency=charge.currency,
            status="succeeded",
            created=self._now(),
            reference=params.reference,
            reason=params.reason,
        )
        self.refunds[refund.id] = refund
        if charge.source == cards.REFUND_FAILS:
            refund.status, refund.failure_code = "failed", "charge_for_pending_refund_disputed"
            self._emit("refund.failed", refund.wire(), key)
        elif charge.source == cards.REFUND_PENDING:
            refund.status = "pending"

            def settle() -> None:
                refund.status = "succeeded"
                charge.amount_refunded += refund.amount
                self._emit("refund.succeeded", refund.wire(), key)

            self._later(self.config.pending_settle_ms / 1000, settle)
        else:
            charge.amount_refunded += amount
            self._emit("refund.succeeded", refund.wire(), key)
        return self._stored(201, refund.wire())

    async def _get_refund(self, request: Request) -> Response:
        refused = await self._read_fault(request)
        if refused is not None:
            return refused
        refund = self.refunds.get(request.path_params["id"])
        if refund is None:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": "No such refund.",
                    }
                },
                status_code=404,
            )
        return JSONResponse(refund.wire())

    # -- 3-D Secure challenge -----------------------------------------------------------------

    async def _challenge_page(self, request: Request) -> Response:
        charge = self._find(request.path_params["id"])
        if charge is None or charge.status != "requires_action":
            return HTMLResponse("<p>No challenge pending.</p>", status_code=404)
        return HTMLResponse(
            "<!doctype html><title>Sandbox 3-D Secure</title>"
            f"<h1>{self.config.name}: confirm {charge.amount} {charge.currency} minor units</h1>"
            f'<form method="post"><button name="result" value="pass">Complete</button>'
            f'<button name="result" value="fail">Fail</button></form>'
        )

    async def _challenge_answer(self, request: Request) -> Response:
        charge = self._find(request.path_params["id"])
        if charge is None or charge.status != "requires_action":
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "no_challenge",
                        "message": "No challenge pending.",
                    }
                },
                status_code=404,
            )
        # A one-field urlencoded form: the standard library reads it.
        form = urllib.parse.parse_qs((await request.body()).decode())
        if form.get("result") == ["fail"]:
            charge.status = "failed"
            charge.failure_code, charge.failure_message = (
                "authentication_failed",
                "The customer failed authentication.",
            )
            self._emit("charge.failed", charge.wire(), None)
        else:
            charge.next_action = None
            self._approve(charge, None)
        if charge.return_url:
            return RedirectResponse(charge.return_url, status_code=303)
        return HTMLResponse(f"<p>Challenge {charge.status}.</p>")

    async def complete_challenge(self, charge_id: str, passed: bool = True) -> None:
        """What a customer clicking the challenge page does, for tests and demos."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            await client.post(
                f"/challenge/{charge_id}", data={"result": "pass" if passed else "fail"}
            )

    # -- test and operator endpoints ----------------------------------------------------------

    async def _all_charges(self, request: Request) -> Response:
        return JSONResponse(
            {
                "charges": [c.wire() for c in self.charges.values()],
                "captures": self.captures,
                "refunds": [r.wire() for r in self.refunds.values()],
            }
        )

    async def _all_events(self, request: Request) -> Response:
        return JSONResponse({"events": self.events})

    async def _fault_report(self, request: Request) -> Response:
        """The fault plan in force and how many faults of each kind were injected."""
        return JSONResponse(
            {
                "plan": self.faults.plan.model_dump(mode="json"),
                "injected": dict(sorted(self.faults.injected.items())),
            }
        )

    async def _install_faults(self, request: Request) -> Response:
        """Install a fault plan (outage windows count from now)."""
        try:
            plan = FaultPlan.model_validate(await self._body(request))
        except ValidationError as exc:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "parameter_invalid",
                        "message": exc.errors()[0]["msg"],
                    }
                },
                status_code=400,
            )
        self.faults.install(plan, self.clock.monotonic())
        return await self._fault_report(request)

    async def _reconfigure(self, request: Request) -> Response:
        """Change availability, latency or failure rate of a running instance."""
        data = await self._body(request)
        allowed = {"available", "latency_ms", "failure_rate", "hang_seconds"}
        if not isinstance(data, dict) or not set(data) <= allowed:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "parameter_invalid",
                        "message": f"settable: {sorted(allowed)}",
                    }
                },
                status_code=400,
            )
        self.config = self.config.model_copy(update=data)
        return JSONResponse(
            self.config.model_dump(mode="json", exclude={"api_key", "webhook_secret"})
        )

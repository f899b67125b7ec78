"""The provider adapter contract, and the one place provider HTTP is sent from.

An adapter is plumbing plus pure translation: it builds requests with its `transform`
functions, hands them to `ProviderHTTP.send` (owned by the core: timeouts, transport-error
classification, redacted logging, metrics) and parses the answer back into a `PaymentResult`.
It never creates its own HTTP client and never retries; the core decides that.

Transport errors are classified once, here:

    connect error, connect timeout, pool timeout           -> NotSent
    read/write timeout, read/write error, protocol error,
    the overall deadline, anything else                     -> OutcomeUnknown
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gatewayhub.clock import Clock
from gatewayhub.errors import (
    DeclineCode,
    GatewayError,
    IntegrityError,
    NotSent,
    OutcomeUnknown,
    ProviderError,
)
from gatewayhub.fees import FeeSchedule
from gatewayhub.models import (
    AuthorizeCall,
    CaptureCall,
    PaymentMethodType,
    PaymentResult,
    ProviderEvent,
    RefundCall,
    RefundResult,
    RetrieveCall,
    VoidCall,
    WebhookAck,
)
from gatewayhub.money import Money
from gatewayhub.redaction import redact

log = logging.getLogger("gatewayhub.provider")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class AmountFormat(StrEnum):
    """How a provider writes amounts on the wire."""

    MINOR_UNITS = "minor_units"  # integer count of minor units (Stripe, Adyen, Checkout.com)
    DECIMAL_STRING = "decimal_string"  # "10.50" (PayPal, Alipay)


class Capabilities(BaseModel):
    """What one provider account can do; the router and the contract suite read it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currencies: frozenset[str]
    methods: frozenset[PaymentMethodType] = frozenset({PaymentMethodType.CARD})
    countries: frozenset[str] | None = None  # None: any issuing country
    manual_capture: bool = True
    partial_capture: bool = True
    multiple_captures: bool = False
    void: bool = True
    refund: bool = True
    partial_refund: bool = True
    multiple_refunds: bool = True
    retrieve: bool = True
    # Can a payment be found by the idempotency key/reference alone (when the provider's own
    # id never reached us)? Without it, a lost answer is settled by replay or webhook only.
    retrieve_by_key: bool = False
    three_d_secure: bool = False
    idempotency_header: str | None = None
    webhook_signing: str | None = None
    amount_format: AmountFormat = AmountFormat.MINOR_UNITS


class Timeouts(BaseModel):
    """Seconds. `total` bounds one HTTP exchange end to end, whatever the transport."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(default=3.0, gt=0)
    read: float = Field(default=20.0, gt=0)
    write: float = Field(default=10.0, gt=0)
    pool: float = Field(default=2.0, gt=0)
    total: float = Field(default=30.0, gt=0)

    def for_httpx(self) -> httpx.Timeout:
        """The per-phase timeouts for httpx."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class ProviderSettings(BaseModel):
    """Base of each adapter's settings (credentials, endpoints). Secrets are `SecretStr`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeouts: Timeouts = Field(default_factory=Timeouts)


class WebhookVerificationError(GatewayError):
    """A webhook failed verification. `reason` is a short machine-readable cause."""

    code = "webhook_verification_failed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnsupportedOperation(GatewayError):
    """The provider has no such operation (declared in its capabilities)."""

    code = "unsupported_operation"


WebhookSink = Callable[[Mapping[str, str], bytes], Awaitable[None]]


class ProviderHTTP:
    """Sends an adapter's requests: deadlines, error classification, redacted debug logs."""

    def __init__(
        self, client: httpx.AsyncClient, *, account: str, timeouts: Timeouts, clock: Clock
    ) -> None:
        self.client = client
        self.account = account
        self.timeouts = timeouts
        self.clock = clock
        self._httpx_timeout = timeouts.for_httpx()  # made once: it is the same for every call

    def build(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """An httpx request with this account's timeouts."""
        return self.client.build_request(
            method,
            url,
            json=json,
            data=data,
            content=content,
            headers=headers,
            params=params,
            timeout=self._httpx_timeout,
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send and read the whole response, or raise `NotSent` / `OutcomeUnknown`."""
        try:
            async with asyncio.timeout(self.timeouts.total):
                response = await self.client.send(request)
                await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(
                f"{self.account}: {_where(request)} not sent: {type(exc).__name__}"
            ) from exc
        except (httpx.TransportError, TimeoutError) as exc:
            raise OutcomeUnknown(
                f"{self.account}: {_where(request)} outcome unknown: {type(exc).__name__}",
                decline_code=DeclineCode.OUTCOME_UNKNOWN,
            ) from exc
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s %s",
                self.account,
                _where(request),
                response.status_code,
                redact(response.text[:2000]),
            )
        return response

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds from a `Retry-After` header (delta-seconds or HTTP date), if any."""
        return parse_retry_after(response.headers.get("retry-after"), self.clock.now())


def _where(request: httpx.Request) -> str:
    """Method and URL without the query (which may carry references), for messages only:
    built when something is said, not on every call."""
    return f"{request.method} {request.url.copy_with(query=None)}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def classify_http_failure(response: httpx.Response, http: ProviderHTTP) -> ProviderError | None:
    """The common meaning of HTTP failures that are not declines; None for other statuses.

    401/403 and 429 were refused before any effect (NotSent); a 5xx, 408 or 409 may have
    followed an effect (OutcomeUnknown: replay with the same key or look it up). Adapters
    call this after handling their provider's own error bodies.
    """
    status = response.status_code
    label = f"{http.account}: HTTP {status}"
    if status == 429:
        return NotSent(
            f"{label} rate limited",
            decline_code=DeclineCode.RATE_LIMITED,
            retry_after=http.retry_after(response),
            status_code=status,
        )
    if status in (401, 403):
        return NotSent(
            f"{label} credentials refused",
            decline_code=DeclineCode.PROVIDER_AUTH_FAILED,
            status_code=status,
        )
    if status >= 500 or status in (408, 409):
        return OutcomeUnknown(
            f"{label} from provider",
            decline_code=DeclineCode.PROVIDER_UNAVAILABLE,
            retry_after=http.retry_after(response),
            status_code=status,
        )
    return None


class TraceId(NamedTuple):
    """The answer header carrying the id a provider's support asks for, and the name error
    messages give it ("debug_id 8f2b...")."""

    header: str
    label: str

    def of(self, response: httpx.Response) -> str:
        """`, <label> <id>` when `response` carries the id, else ``."""
        value = response.headers.get(self.header)
        return f", {self.label} {value}" if value else ""


def http_failure(
    response: httpx.Response,
    http: ProviderHTTP,
    provider_label: str,
    *,
    trace: TraceId | None = None,
) -> ProviderError:
    """The failure an HTTP status means once the adapter has handled its provider's own
    answers and refusals: `classify_http_failure`'s, else `OutcomeUnknown` (an answer the
    adapter does not expect may have followed an effect)."""
    failure = classify_http_failure(response, http)
    if failure is not None:
        return failure
    status = response.status_code
    return OutcomeUnknown(
        f"{http.account}: unexpected HTTP {status} from {provider_label}"
        f"{trace.of(response) if trace else ''}",
        status_code=status,
    )


def read_answer(
    model: type[M],
    response: httpx.Response,
    account: str,
    provider_label: str,
    *,
    trace: TraceId | None = None,
    moved_nothing: bool = False,
) -> M:
    """The provider's answer as `model`, or the failure an unreadable body means.

    The provider answered, so it may have acted on the request: a body that does not read
    as `model` raises `OutcomeUnknown` (the money may have moved). `moved_nothing` is for
    calls that cannot move money (an access token): there it raises `NotSent`. The
    provider's `trace` id, when the answer has one, goes into the message for its support.
    """
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        status = response.status_code
        message = (
            f"{account}: unreadable {provider_label} answer (HTTP {status}"
            f"{trace.of(response) if trace else ''}): {exc.error_count()} validation errors"
        )
        if moved_nothing:
            raise NotSent(
                message, decline_code=DeclineCode.PROVIDER_UNAVAILABLE, status_code=status
            ) from None
        raise OutcomeUnknown(
            message, decline_code=DeclineCode.OUTCOME_UNKNOWN, status_code=status
        ) from None


def read_result(
    build: Callable[[], T], account: str, provider_label: str, *, status_code: int | None = None
) -> T:
    """What `build` translates from a 2xx answer, or `OutcomeUnknown` when the answer holds
    an amount or currency it cannot read (a `ValueError`: `MoneyError`, an unknown
    currency): the provider acted on something we do not understand."""
    try:
        return build()
    except ValueError as exc:
        raise OutcomeUnknown(
            f"{account}: unreadable amount in {provider_label} answer: {exc}",
            decline_code=DeclineCode.OUTCOME_UNKNOWN,
            status_code=status_code,
        ) from None


def check_echo(sent: Money, result: PaymentResult | RefundResult, account: str) -> None:
    """Raise `IntegrityError` when the provider echoed another amount or currency."""
    echoed = result.money
    if echoed is not None and echoed != sent:
        raise IntegrityError(
            f"{account}: sent {sent} but the provider answered with {echoed}",
            decline_code=DeclineCode.OUTCOME_UNKNOWN,
        )


class Provider(ABC):
    """Base class of every adapter. Subclasses set `name`, `Settings`, `default_fees` and
    implement the operations; unsupported ones keep the base version, which refuses."""

    name: ClassVar[str]
    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings
    default_fees: ClassVar[FeeSchedule] = FeeSchedule()

    def __init__(self, account: str, settings: ProviderSettings, http: ProviderHTTP) -> None:
        self.account = account
        self.settings = settings
        self.http = http

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.account!r}>"

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this account supports."""

    @classmethod
    def embedded_transport(
        cls,
        settings: ProviderSettings,
        *,
        deliver_webhook: WebhookSink,
        clock: Clock,
        fees: FeeSchedule,
    ) -> httpx.AsyncBaseTransport | None:
        """An in-process transport to an emulated provider (charging `fees`, delivering its
        webhooks to `deliver_webhook`), or None for a real provider."""
        return None

    @abstractmethod
    async def authorize(self, call: AuthorizeCall) -> PaymentResult:
        """Authorize (and capture when `call.capture`); declines come back as values."""

    async def capture(self, call: CaptureCall) -> PaymentResult:
        """Capture an authorization."""
        raise UnsupportedOperation(f"{self.name} cannot capture separately")

    async def void(self, call: VoidCall) -> PaymentResult:
        """Release an authorization."""
        raise UnsupportedOperation(f"{self.name} cannot void")

    async def refund(self, call: RefundCall) -> RefundResult:
        """Refund captured money."""
        raise UnsupportedOperation(f"{self.name} cannot refund")

    async def retrieve(self, call: RetrieveCall) -> PaymentResult:
        """Look a payment up; NOT_FOUND only when the provider proves it has none."""
        raise UnsupportedOperation(f"{self.name} has no payment lookup; webhooks settle it")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise `WebhookVerificationError` unless the raw body is authentic and fresh."""
        raise WebhookVerificationError("unsupported", f"{self.name} does not sign webhooks")

    async def verify_webhook_async(self, headers: Mapping[str, str], body: bytes) -> None:
        """The check the core runs on every webhook. Adapters whose scheme needs I/O (a
        signing certificate to fetch, a provider API to ask) override it and use `self.http`;
        the default is the synchronous `verify_webhook`. May also raise `NotSent` or
        `OutcomeUnknown` when that I/O failed: nothing is stored and the provider retries."""
        self.verify_webhook(headers, body)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ProviderEvent]:
        """The events in a verified webhook (some providers batch several)."""
        raise WebhookVerificationError("unsupported", f"{self.name} does not send webhooks")

    def webhook_ack(self, events: Sequence[ProviderEvent]) -> WebhookAck:
        """The response the provider expects once its webhook is stored."""
        return WebhookAck(status_code=200, body=b"", media_type="text/plain")

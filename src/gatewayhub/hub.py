"""`Hub`: gatewayhub embedded in your own async Python service.

    async with Hub() as hub:                       # three local sandbox providers, SQLite
        payment = await hub.authorize(amount=1050, currency="EUR",
                                      payment_method="tok_visa", idempotency_key="order-17")
        await hub.refund(payment.id, amount=500)

`Hub(config)` takes a `HubConfig`, a path to a TOML file, or nothing (the built-in sandbox
configuration). This module is the one place where configuration becomes wired objects.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import ValidationError

from gatewayhub.clock import Clock, SystemClock
from gatewayhub.config import HubConfig, default_config, load_config, resolve_secrets
from gatewayhub.errors import ConfigError, InvalidRequest, ShuttingDown
from gatewayhub.fees import CompiledFees
from gatewayhub.health import Health, LocalHealth
from gatewayhub.inflight import InFlight
from gatewayhub.models import (
    AuthorizeRequest,
    CaptureRequest,
    PaymentStatus,
    RefundRequest,
    WebhookAck,
)
from gatewayhub.money import Money
from gatewayhub.outbound import Dispatcher, Endpoints, SecretBox, system_resolver
from gatewayhub.outbound.resealing import Resealed, reseal_secrets
from gatewayhub.outbound.ssrf import Resolver
from gatewayhub.outbound.store import OutboundStore
from gatewayhub.provider import ProviderHTTP
from gatewayhub.reconciler import Reconciler
from gatewayhub.redaction import install_log_redaction
from gatewayhub.registry import provider_type
from gatewayhub.routing import (
    ProviderProfile,
    RouteDecision,
    Router,
)
from gatewayhub.service import AttemptObserver, PaymentService, ProviderAccount
from gatewayhub.shared import RedisLink, SharedHealth
from gatewayhub.storage import Database, Store, open_database
from gatewayhub.views import EventView, PaymentView, RefundView
from gatewayhub.webhooks.intake import WebhookIntake

log = logging.getLogger("gatewayhub.hub")


@dataclass(frozen=True, slots=True)
class PaymentPage:
    """One page of payments, newest first; pass `next_cursor` as `before` for the next."""

    items: builtins.list[PaymentView]
    next_cursor: str | None


def _invalid(exc: ValidationError) -> InvalidRequest:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or None
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return InvalidRequest(first["msg"], field=where, details=details)


class Hub:
    """The SDK: one object wiring store, router, health and provider adapters."""

    def __init__(
        self,
        config: HubConfig | str | Path | None = None,
        *,
        database_url: str | None = None,
        merchant_id: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        background: bool = True,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        if config is None:
            config = default_config()
        elif not isinstance(config, HubConfig):
            config = load_config(config)
        if not config.providers:
            raise ConfigError("no provider accounts are configured ([providers.<name>] tables)")
        self.config = config
        self.database_url = database_url or config.gateway.database_url
        self.merchant_id = merchant_id or config.gateway.merchant
        self.clock: Clock = clock or SystemClock()
        self.rng = rng
        self._transports = dict(transports or {})
        self._background = background
        self._webhook_transport = webhook_transport
        self._resolver = resolver or system_resolver
        self._clients: list[httpx.AsyncClient] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._db: Database | None = None
        self._service: PaymentService | None = None
        self._intake: WebhookIntake | None = None
        self._endpoints: Endpoints | None = None
        self._dispatcher: Dispatcher | None = None
        self._sealed: tuple[OutboundStore, SecretBox] | None = None
        self._outbound_wake = asyncio.Event()
        self._inflight = InFlight()
        self._attempt_observers: list[AttemptObserver] = []
        self.redis: RedisLink | None = None
        self._shared_health: SharedHealth | None = None
        """The Redis link when `[gateway] redis_url` is set (for shared rate limiters)."""
        self._reconciler: Reconciler | None = None
        self.accounts: dict[str, ProviderAccount] = {}
        # Adapters and settings are validated now, so a bad configuration fails at once,
        # before any database is created or any provider is called.
        self._prepared = [self._prepare_account(name) for name in self._enabled()]
        self._send_window = self._checked_send_window()

    def _checked_send_window(self) -> float:
        """Seconds after its start an attempt may still reach its provider; leases and
        reconcile delays shorter than that are refused.

        An attempt is sent (and sent again with its key) until the retry deadline, each try
        for at most its account's total timeout, and the provider may act on the last one a
        little later still. A lookup inside that window can find nothing while the attempt
        is still on its way; concluding "never sent" then fails the payment over to a second
        provider, or fails a payment the first one charges."""
        gateway = self.config.gateway
        longest: float = max(settings.timeouts.total for _, _, settings in self._prepared)
        window = self.config.retry.deadline + longest + gateway.in_flight_grace_seconds
        for name in ("idempotency_lease_seconds", "reconcile_after_seconds"):
            value = getattr(gateway, name)
            if value < window:
                raise ConfigError(
                    f"gateway.{name} is {value:g} s, shorter than an attempt's send window "
                    f"of {window:g} s (retry.deadline {self.config.retry.deadline:g} + the "
                    f"longest provider timeouts.total {longest:g} + "
                    f"gateway.in_flight_grace_seconds {gateway.in_flight_grace_seconds:g}): "
                    "a lookup or a resumed request inside it could find nothing while the "
                    "attempt is still being sent"
                )
        return window

    def _enabled(self) -> list[str]:
        names = [n for n, a in self.config.providers.items() if a.enabled]
        if not names:
            raise ConfigError("every provider account is disabled")
        return names

    def _prepare_account(self, name: str) -> tuple[str, Any, Any]:
        account = self.config.providers[name]
        cls = provider_type(account.type)
        data = resolve_secrets(account.settings, f"providers.{name}.settings")
        try:
            settings = cls.Settings.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"providers.{name}.settings: {problems}") from None
        try:
            cls.default_fees.merged(account.fees)
        except ValidationError as exc:
            raise ConfigError(f"providers.{name}.fees: {exc.errors()[0]['msg']}") from None
        return name, cls, settings

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Self:
        """Open the database (migrating it), the provider clients and the background workers."""
        if self._service is not None:
            return self
        install_log_redaction()
        gateway = self.config.gateway.model_copy(update={"database_url": self.database_url})
        self._db = open_database(self.database_url, **gateway.database_options())
        await self._db.migrate()
        fx = self.config.fx_rates()
        profiles = []
        for name, cls, settings in self._prepared:
            account = self.config.providers[name]
            fees = cls.default_fees.merged(account.fees) if account.fees else cls.default_fees
            transport = self._transports.get(name) or cls.embedded_transport(
                settings, deliver_webhook=self._embedded_sink(name), clock=self.clock, fees=fees
            )
            client = httpx.AsyncClient(transport=transport, timeout=settings.timeouts.for_httpx())
            self._clients.append(client)
            adapter = cls(
                name,
                settings,
                ProviderHTTP(client, account=name, timeouts=settings.timeouts, clock=self.clock),
            )
            caps = adapter.capabilities
            if account.currencies is not None:
                caps = caps.model_copy(
                    update={"currencies": caps.currencies & frozenset(account.currencies)}
                )
            profile = ProviderProfile(
                account=name,
                capabilities=caps,
                fees=CompiledFees(
                    fees, account.country, frozenset(account.settlement_currencies), fx
                ),
                priority=account.priority,
                weight=account.weight,
                limits=account.limit_table(),
            )
            profiles.append(profile)
            self.accounts[name] = ProviderAccount(adapter, profile)
        router = Router(profiles, self.config.routing.policy(fx))
        self.health: Health = await self._health(list(self.accounts))
        self.store = Store(self._db)
        self._service = PaymentService(
            store=self.store,
            accounts=self.accounts,
            router=router,
            health=self.health,
            policy=self.config.retry,
            clock=self.clock,
            rng=self.rng,
            key_lease=timedelta(seconds=gateway.idempotency_lease_seconds),
            send_window=timedelta(seconds=self._send_window),
            observers=self._attempt_observers,
        )
        self._intake = WebhookIntake(
            self._service, self.store, self.clock, timedelta(seconds=gateway.inbox_lease_seconds)
        )
        self._start_outbound(self._db)
        self._reconciler = Reconciler(
            self._service,
            self.clock,
            after=timedelta(seconds=gateway.reconcile_after_seconds),
            backoff_initial=timedelta(seconds=self._reconcile_interval()),
            backoff_max=timedelta(seconds=gateway.reconcile_backoff_max_seconds),
            alert_after=timedelta(seconds=gateway.reconcile_alert_after_seconds),
            lease=timedelta(seconds=gateway.reconcile_lease_seconds),
        )
        self._inflight.open()
        if self._background:
            self._tasks.append(asyncio.create_task(self._work_inbox(), name="gatewayhub-inbox"))
            self._tasks.append(
                asyncio.create_task(self._work_reconciler(), name="gatewayhub-reconciler")
            )
            assert self._dispatcher is not None
            self._tasks.append(
                asyncio.create_task(
                    self._dispatcher.run(self._outbound_wake), name="gatewayhub-outbound"
                )
            )
        return self

    def _start_outbound(self, db: Database) -> None:
        settings = self.config.webhooks
        box = SecretBox(
            resolve_secrets(settings.encryption_key, "webhooks.encryption_key"),
            resolve_secrets(settings.previous_encryption_keys, "webhooks.previous_encryption_keys"),
        )
        store = OutboundStore(db)
        # Its own client: no proxies from the environment (they would bypass the address
        # check) and no redirects (a 3xx could point anywhere; it counts as a failure).
        client = httpx.AsyncClient(
            transport=self._webhook_transport,
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )
        self._clients.append(client)
        self._endpoints = Endpoints(store, box, settings, self.clock, self._resolver)
        self._sealed = (store, box)
        self._dispatcher = Dispatcher(
            store, box, settings, client, self.clock, self._resolver, self.rng
        )

    async def _health(self, accounts: builtins.list[str]) -> Health:
        gateway = self.config.gateway
        settings = self.config.health.settings()
        if gateway.redis_url is None:
            return LocalHealth(self.clock, settings)
        self.redis = RedisLink(
            gateway.redis_url,
            prefix=gateway.redis_prefix,
            timeout=gateway.redis_timeout_seconds,
            retry_seconds=gateway.redis_retry_seconds,
        )
        shared = SharedHealth(
            self.clock,
            settings,
            self.redis,
            accounts,
            refresh_seconds=gateway.health_refresh_seconds,
        )
        await shared.start()
        self._shared_health = shared
        return shared

    async def close(self) -> None:
        """Refuse new operations, let running ones finish (up to the configured grace
        period), then stop the workers and release connections."""
        if self._service is not None:
            left = await self._inflight.drain(self.config.gateway.shutdown_grace_seconds)
            if left:
                log.warning(
                    "closing with %d payment operation(s) still running after the %g s "
                    "grace period; they are left to the reconciler",
                    left,
                    self.config.gateway.shutdown_grace_seconds,
                )
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        if self._shared_health is not None:
            await self._shared_health.close()
            self._shared_health = None
        if self.redis is not None:
            await self.redis.close()
            self.redis = None
        if self._db is not None:
            await self._db.close()
            self._db = None
        self._service = None
        self._endpoints = None
        self._dispatcher = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def observe_attempts(self, observer: AttemptObserver) -> None:
        """Tell `observer` of every attempt change this process commits from now on, across
        restarts of the hub: attempts started, answered, and unknown outcomes resolved."""
        self._attempt_observers.append(observer)

    @property
    def service(self) -> PaymentService:
        """The use cases (after `start`)."""
        if self._service is None:
            raise RuntimeError(
                "the hub is not started: use 'async with Hub() as hub' or 'await hub.start()'"
            )
        return self._service

    @property
    def reconciler(self) -> Reconciler:
        """The background reconciler (after `start`)."""
        if self._reconciler is None:
            raise RuntimeError("the hub is not started")
        return self._reconciler

    @property
    def reconciler_unresolved(self) -> int:
        """Payments whose outcome has stayed unknown past `reconcile_alert_after_seconds`,
        as of the reconciler's last pass (a gauge for /metrics; 0 before the first pass)."""
        return self._reconciler.unresolved_past_bound if self._reconciler else 0

    @property
    def intake(self) -> WebhookIntake:
        """The provider-webhook intake (after `start`)."""
        if self._intake is None:
            raise RuntimeError("the hub is not started")
        return self._intake

    @property
    def endpoints(self) -> Endpoints:
        """Merchant webhook endpoints and their deliveries (after `start`)."""
        if self._endpoints is None:
            raise RuntimeError("the hub is not started")
        return self._endpoints

    async def reseal_webhook_secrets(self) -> Resealed:
        """Seal every merchant endpoint's signing secret with the current `[webhooks]
        encryption_key`, so the keys in `previous_encryption_keys` can go (after `start`)."""
        if self._sealed is None:
            raise RuntimeError("the hub is not started")
        return await reseal_secrets(*self._sealed)

    # -- payments -----------------------------------------------------------------------------

    async def authorize(
        self,
        request: AuthorizeRequest | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        merchant_id: str | None = None,
        **fields: Any,
    ) -> PaymentView:
        """Take a payment: `amount` (minor units), `currency`, `payment_method` (a token, or
        a dict/`PaymentMethod`), `capture` ("automatic" or "manual"), and optional
        `reference`, `description`, `customer_country`, `return_url`, `metadata`, `provider`."""
        if request is None:
            method = fields.get("payment_method")
            if isinstance(method, str):
                fields["payment_method"] = {"token": method}
            try:
                request = AuthorizeRequest.model_validate(fields)
            except ValidationError as exc:
                raise _invalid(exc) from None
        with self._inflight.operation():
            payment = await self.service.authorize(
                merchant_id or self.merchant_id, request, idempotency_key
            )
        return PaymentView.of(payment)

    async def capture(
        self,
        payment_id: str,
        amount: int | None = None,
        *,
        final: bool = True,
        idempotency_key: str | None = None,
        merchant_id: str | None = None,
    ) -> PaymentView:
        """Capture the whole authorization, or `amount` of it."""
        try:
            request = CaptureRequest(amount=amount, final=final)
        except ValidationError as exc:
            raise _invalid(exc) from None
        with self._inflight.operation():
            payment = await self.service.capture(
                merchant_id or self.merchant_id, payment_id, request, idempotency_key
            )
        return PaymentView.of(payment)

    async def void(
        self, payment_id: str, *, idempotency_key: str | None = None, merchant_id: str | None = None
    ) -> PaymentView:
        """Release an uncaptured authorization."""
        with self._inflight.operation():
            payment = await self.service.void(
                merchant_id or self.merchant_id, payment_id, idempotency_key
            )
        return PaymentView.of(payment)

    async def refund(
        self,
        payment_id: str,
        amount: int | None = None,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
        merchant_id: str | None = None,
    ) -> RefundView:
        """Refund everything still refundable, or `amount`."""
        try:
            request = RefundRequest(amount=amount, reason=reason)
        except ValidationError as exc:
            raise _invalid(exc) from None
        with self._inflight.operation():
            _, refund = await self.service.refund(
                merchant_id or self.merchant_id, payment_id, request, idempotency_key
            )
        return RefundView.of(refund)

    async def get(self, payment_id: str, *, merchant_id: str | None = None) -> PaymentView:
        """A payment with its attempts and refunds."""
        return PaymentView.of(await self.service.get(merchant_id or self.merchant_id, payment_id))

    async def list(
        self,
        *,
        limit: int = 20,
        before: str | None = None,
        status: PaymentStatus | str | None = None,
        provider: str | None = None,
        currency: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        merchant_id: str | None = None,
    ) -> PaymentPage:
        """Payments, newest first, with optional filters."""
        if not 1 <= limit <= 100:
            raise InvalidRequest("must be between 1 and 100", field="limit")
        payments = await self.store.list_payments(
            merchant_id or self.merchant_id,
            limit=limit + 1,
            before=before,
            status=PaymentStatus(status) if status else None,
            provider=provider,
            currency=currency,
            created_from=created_from,
            created_to=created_to,
        )
        items = [PaymentView.of(p) for p in payments[:limit]]
        return PaymentPage(items, items[-1].id if len(payments) > limit else None)

    async def events(
        self, payment_id: str, *, merchant_id: str | None = None
    ) -> builtins.list[EventView]:
        """A payment's history, oldest first."""
        await self.service.get(merchant_id or self.merchant_id, payment_id)
        return [EventView.of(e) for e in await self.store.events(payment_id)]

    async def sync(self, payment_id: str, *, merchant_id: str | None = None) -> PaymentView:
        """Ask the provider about the payment's unresolved attempts and apply the answers."""
        with self._inflight.operation():
            payment = await self.service.sync(merchant_id or self.merchant_id, payment_id)
        return PaymentView.of(payment)

    def explain_route(
        self,
        request: AuthorizeRequest | None = None,
        /,
        **fields: Any,
    ) -> RouteDecision:
        """Where a payment would go now and why; nothing is stored or sent."""
        if request is None:
            method = fields.get("payment_method", "tok_preview")
            fields["payment_method"] = {"token": method} if isinstance(method, str) else method
            try:
                request = AuthorizeRequest.model_validate(fields)
            except ValidationError as exc:
                raise _invalid(exc) from None
        return self.service.explain(request)

    async def ledger(self, *, merchant_id: str | None = None) -> builtins.list[tuple[str, Money]]:
        """Ledger balances per account and currency (debits positive)."""
        rows = await self.store.ledger_balances(merchant_id or self.merchant_id)
        return [(account, Money(total, currency)) for account, currency, total in rows]

    # -- webhooks and background work ---------------------------------------------------------

    async def handle_webhook(
        self, account: str, headers: Mapping[str, str], body: bytes
    ) -> WebhookAck:
        """Verify and store a provider webhook; it is applied by the inbox worker."""
        ack, _ = await self.receive_webhook(account, headers, body)
        return ack

    async def receive_webhook(
        self, account: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[WebhookAck, int]:
        """`handle_webhook`, also telling how many of its events were new (not duplicates)."""
        with self._inflight.operation():
            ack, fresh = await self.intake.receive(account, headers, body)
        if fresh:
            self._wake.set()
        return ack, fresh

    async def process_webhooks(self) -> int:
        """Apply stored provider events now (the background worker does this on its own)."""
        return await self.intake.process()

    async def deliver_webhooks(self) -> int:
        """Fan out and send due merchant webhooks now (the background worker does this on
        its own); returns the work done, 0 when there was none."""
        if self._dispatcher is None:
            raise RuntimeError("the hub is not started")
        return await self._dispatcher.run_once()

    async def reconcile(self, older_than: timedelta | None = None) -> int:
        """Resolve payments whose provider answer is overdue (the worker does this too)."""
        gateway = self.config.gateway
        after = older_than or timedelta(seconds=gateway.reconcile_after_seconds)
        return await self.service.reconcile(
            after, lease=timedelta(seconds=gateway.reconcile_lease_seconds)
        )

    def _embedded_sink(self, account: str) -> Any:
        async def deliver(headers: Mapping[str, str], body: bytes) -> None:
            try:
                await self.handle_webhook(account, headers, body)
            except ShuttingDown:
                # Expected when the emulator's delayed webhooks fire while the hub closes:
                # a real provider would get a 503 and retry; the in-process emulator has no
                # other instance to retry against, so this is said quietly, not as an error.
                log.info("%s: webhook arrived while the hub was closing; not taken", account)

        return deliver

    async def _work_inbox(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while await self.intake.process():
                    pass
            except Exception:
                log.exception("inbox worker failed; retrying")

    def _reconcile_interval(self) -> float:
        return max(1.0, self.config.gateway.reconcile_after_seconds / 3)

    async def _work_reconciler(self) -> None:
        interval = self._reconcile_interval()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reconciler.run_once()
            except Exception:
                log.exception("reconciler failed; retrying")

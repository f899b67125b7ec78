"""Configuration: a TOML file (or the same structure in code) validated into typed models.

Secrets never sit in the file: a value written "env:NAME" is read from the environment when
the configuration is loaded, and a missing variable is an error naming the setting.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gatewayhub.errors import ConfigError
from gatewayhub.health import BreakerSettings, HealthSettings
from gatewayhub.models import Country, CurrencyCode
from gatewayhub.money import parse_money_literal
from gatewayhub.retry import RetryPolicy
from gatewayhub.routing import RoutingPolicy, Rule, RuleCondition, Strategy

ENV_PREFIX = "env:"


def _check_limits(limits: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    for currency, (low, high) in limits.items():
        lo, hi = parse_money_literal(low), parse_money_literal(high)
        if lo.currency != currency or hi.currency != currency:
            raise ValueError(f"limits[{currency}] must be in {currency}")
        if lo > hi:
            raise ValueError(f"limits[{currency}]: minimum above maximum")
    return limits


AmountLimits = Annotated[dict[CurrencyCode, tuple[str, str]], AfterValidator(_check_limits)]
"""Per-currency ("min", "max") payment amounts, e.g. {"EUR": ("0.50 EUR", "10000 EUR")}."""


def limit_table(limits: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Amount limits in minor units, by currency, as routing reads them."""
    return {
        currency: (parse_money_literal(lo).amount, parse_money_literal(hi).amount)
        for currency, (lo, hi) in limits.items()
    }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GatewayConfig(_Strict):
    """Where state lives and who the default merchant is."""

    database_url: str = "sqlite:///gatewayhub.db"
    sqlite_synchronous: str = "NORMAL"
    merchant: str = Field(default="default", min_length=1, max_length=64)
    # Both must outlast an attempt's send window (retry deadline + the longest provider
    # timeout + `in_flight_grace_seconds`), which the hub checks: sooner, a lookup could find
    # nothing while a live request is still sending the attempt, and a retry could resume a
    # request that is still running.
    idempotency_lease_seconds: float = Field(default=90.0, gt=0)
    reconcile_after_seconds: float = Field(default=90.0, gt=0)
    # How long after a client-side timeout a provider may still act on the request (its
    # queues, slow processing): no lookup concludes "never arrived" sooner than that.
    in_flight_grace_seconds: float = Field(default=10.0, ge=0)
    # The reconciler backs off per payment (doubling from its interval) up to this, and
    # alerts (ERROR log, `reconciler_unresolved`) on an outcome unknown for longer than that.
    reconcile_backoff_max_seconds: float = Field(default=300.0, gt=0)
    reconcile_alert_after_seconds: float = Field(default=900.0, gt=0)
    # Work claimed by one instance is taken up by another once its lease runs out.
    reconcile_lease_seconds: float = Field(default=60.0, gt=0)
    inbox_lease_seconds: float = Field(default=30.0, gt=0)
    # PostgreSQL connections (per instance): pool, waiting for one, opening one, and the
    # longest a statement may run (0 = no limit).
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout_seconds: float = Field(default=10.0, gt=0)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    statement_timeout_seconds: float = Field(default=30.0, ge=0)
    # How long closing waits for running payment operations before closing the database.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Shared circuit breakers, approval rates and rate limits (several instances); without
    # it each instance keeps its own. A Redis that does not answer within the timeout is
    # left alone for `redis_retry_seconds` while the instance uses its own state.
    redis_url: str | None = None
    redis_prefix: str = Field(default="gatewayhub", min_length=1, max_length=64)
    redis_timeout_seconds: float = Field(default=0.25, gt=0)
    redis_retry_seconds: float = Field(default=2.0, gt=0)
    health_refresh_seconds: float = Field(default=0.5, gt=0)

    def database_options(self) -> dict[str, Any]:
        """Keyword options for `open_database`, for the backend of `database_url`."""
        if self.database_url.startswith("sqlite"):
            return {"synchronous": self.sqlite_synchronous}
        return {
            "pool_size": self.pool_size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.pool_timeout_seconds,
            "connect_timeout": self.connect_timeout_seconds,
            "statement_timeout": self.statement_timeout_seconds,
        }


class RuleWhen(_Strict):
    """Conditions of a routing rule; all given ones must hold."""

    currencies: list[CurrencyCode] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    countries: list[Country] = Field(default_factory=list)
    amount_gt: str | None = None
    amount_lt: str | None = None

    @field_validator("amount_gt", "amount_lt")
    @classmethod
    def _money(cls, value: str | None) -> str | None:
        if value is not None:
            parse_money_literal(value)
        return value


class RuleConfig(_Strict):
    """`when` these conditions hold, `use` these accounts, in this order."""

    name: str
    use: list[str] = Field(min_length=1)
    when: RuleWhen = Field(default_factory=RuleWhen)
    fallback: bool = False

    def rule(self) -> Rule:
        """As the router's rule."""
        when = self.when
        return Rule(
            name=self.name,
            when=RuleCondition(
                currencies=when.currencies,
                methods=when.methods,
                brands=when.brands,
                countries=when.countries,
                amount_gt=parse_money_literal(when.amount_gt) if when.amount_gt else None,
                amount_lt=parse_money_literal(when.amount_lt) if when.amount_lt else None,
            ),
            use=tuple(self.use),
            fallback=self.fallback,
        )


class RoutingConfig(_Strict):
    """Strategies rank in the order given; rules apply first."""

    strategies: list[Strategy] = Field(default_factory=lambda: [Strategy.PRIORITY], min_length=1)
    exploration: float = Field(default=0.0, ge=0, le=0.5)
    rules: list[RuleConfig] = Field(default_factory=list)

    def policy(self, fx_rates: dict[tuple[str, str], Decimal]) -> RoutingPolicy:
        """As the router's policy."""
        return RoutingPolicy(
            strategies=tuple(self.strategies),
            rules=tuple(r.rule() for r in self.rules),
            exploration=self.exploration,
            fx_rates=fx_rates,
        )


class HealthConfig(_Strict):
    """Circuit breaker and approval-rate window settings."""

    consecutive_failures: int = Field(default=5, ge=1)
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    min_calls: int = Field(default=10, ge=1)
    window: int = Field(default=20, ge=1)
    open_seconds: float = Field(default=30.0, gt=0)
    approval_window_seconds: float = Field(default=900.0, gt=0)

    def settings(self) -> HealthSettings:
        """As the health module's settings."""
        return HealthSettings(
            breaker=BreakerSettings(
                consecutive_failures=self.consecutive_failures,
                window=self.window,
                min_calls=self.min_calls,
                failure_ratio=self.failure_ratio,
                open_seconds=self.open_seconds,
            ),
            window_seconds=self.approval_window_seconds,
        )


class WebhooksConfig(_Strict):
    """Outbound webhooks to merchants: delivery, retries, the SSRF policy, secret sealing."""

    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    retry_schedule: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0],
        min_length=1,
        description="seconds before each retry; the last repeats until the window closes",
    )
    retry_window_seconds: float = Field(default=3 * 24 * 3600.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, lt=1)
    concurrency: int = Field(default=10, ge=1, le=200)
    poll_seconds: float = Field(default=1.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    allow_private_webhook_urls: bool = False
    encryption_key: str | None = Field(
        default=None, description='32-byte key, base64 (or "env:NAME"), sealing signing secrets'
    )
    previous_encryption_keys: list[str] = Field(default_factory=list)

    @field_validator("retry_schedule")
    @classmethod
    def _positive(cls, schedule: list[float]) -> list[float]:
        if any(delay <= 0 for delay in schedule):
            raise ValueError("every retry delay must be positive")
        return schedule

    @field_validator("lease_seconds")
    @classmethod
    def _lease(cls, lease: float, info: ValidationInfo) -> float:
        timeout = info.data.get("timeout_seconds")
        if timeout is not None and lease <= timeout:
            raise ValueError("must be longer than timeout_seconds (a lease covers one request)")
        return lease


class RateLimitConfig(_Strict):
    """A token bucket per merchant: `requests_per_second` refill, `burst` capacity."""

    requests_per_second: float = Field(default=100.0, gt=0)
    burst: int = Field(default=200, ge=1)


class ServiceConfig(_Strict):
    """`gatewayhub serve`: where it listens and how it is reached from outside."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None, description="the URL providers reach this service at (webhook URLs)"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)


class JWTKeyConfig(_Strict):
    """One key that may sign bearer tokens, chosen by the token's `kid` header.

    HS256 takes `secret` (write it "env:NAME"); RS256 and ES256 take a PEM `public_key`
    or a `public_key_file`. Keep the old key listed while tokens signed with it live."""

    kid: str = Field(min_length=1, max_length=128)
    algorithm: Literal["HS256", "RS256", "ES256"]
    secret: str | None = None
    public_key: str | None = None
    public_key_file: Path | None = None

    @field_validator("public_key_file")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path} is not a file")
        return path

    @model_validator(mode="after")
    def _material(self) -> JWTKeyConfig:
        """Exactly the key material the algorithm needs."""
        if self.algorithm == "HS256":
            if not self.secret or self.public_key or self.public_key_file:
                raise ValueError(f"jwt key {self.kid!r}: HS256 takes a secret only")
        elif self.secret or (self.public_key is None) == (self.public_key_file is None):
            raise ValueError(
                f"jwt key {self.kid!r}: {self.algorithm} takes public_key or public_key_file"
            )
        return self


class AuthConfig(_Strict):
    """Who may call the HTTP API: merchant API keys, and JWTs signed by `jwt_keys`."""

    api_keys: bool = True
    jwt_audience: str = "gatewayhub"
    jwt_issuer: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwt_keys: list[JWTKeyConfig] = Field(default_factory=list)

    @field_validator("jwt_keys")
    @classmethod
    def _unique_kids(cls, keys: list[JWTKeyConfig]) -> list[JWTKeyConfig]:
        kids = [k.kid for k in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("every jwt key needs its own kid")
        return keys


class AccountConfig(_Strict):
    """One provider account: routing facts here, adapter settings under `settings`."""

    type: str
    enabled: bool = True
    priority: int = 100
    weight: int = Field(default=0, ge=0)
    country: Country | None = None
    settlement_currencies: list[CurrencyCode] = Field(default_factory=list)
    currencies: list[CurrencyCode] | None = Field(
        default=None, description="restrict the currencies the adapter declares"
    )
    limits: AmountLimits = Field(default_factory=dict)
    fees: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)

    def limit_table(self) -> dict[str, tuple[int, int]]:
        """Amount limits in minor units, by currency, as routing reads them."""
        return limit_table(self.limits)


class HubConfig(_Strict):
    """The whole configuration."""

    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    health: HealthConfig = Field(default_factory=HealthConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    fx: dict[str, Decimal] = Field(default_factory=dict, description='"USD/EUR" = "0.92"')
    providers: dict[str, AccountConfig] = Field(default_factory=dict)

    @field_validator("fx")
    @classmethod
    def _fx(cls, fx: dict[str, Decimal]) -> dict[str, Decimal]:
        for pair, rate in fx.items():
            base, _, quote = pair.partition("/")
            if len(base) != 3 or len(quote) != 3 or rate <= 0:
                raise ValueError(
                    f'fx "{pair}" must look like "USD/EUR" = "0.92" with a positive rate'
                )
        return fx

    def fx_rates(self) -> dict[tuple[str, str], Decimal]:
        """Rates by (from, to), inverses included where not given."""
        rates: dict[tuple[str, str], Decimal] = {}
        for pair, rate in self.fx.items():
            base, _, quote = pair.partition("/")
            rates[(base, quote)] = rate
            rates.setdefault((quote, base), 1 / rate)
        return rates


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "configuration") -> HubConfig:
    """Validate a configuration dict; every problem is listed with its location."""
    try:
        config = HubConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source} is invalid:\n{_format_errors(exc)}") from None
    for name in config.providers:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(
                f"{source}: provider account name {name!r} may use letters, digits, - and _"
            )
    for rule in config.routing.rules:
        unknown = [a for a in rule.use if a not in config.providers]
        if unknown:
            raise ConfigError(
                f"{source}: routing rule {rule.name!r} uses unknown accounts {unknown}"
            )
    return config


def load_config(path: str | Path) -> HubConfig:
    """Read and validate a TOML configuration file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, str(path))


def resolve_secrets(value: Any, where: str) -> Any:
    """Replace every "env:NAME" string inside `value` with the variable's value."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        resolved = os.environ.get(name)
        if resolved is None or resolved == "":
            raise ConfigError(f"{where} reads the environment variable {name}, which is not set")
        return resolved
    if isinstance(value, dict):
        return {k: resolve_secrets(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def default_config() -> HubConfig:
    """Three local sandbox providers with different currencies and prices: what `Hub()`,
    `gatewayhub demo` and `gatewayhub serve` use when given no configuration."""
    return parse_config(
        {
            "routing": {"strategies": ["least_cost", "priority"]},
            "providers": {
                "sandbox_eu": {
                    "type": "sandbox",
                    "priority": 1,
                    "country": "DE",
                    "settlement_currencies": ["EUR"],
                    "fees": {
                        "percent": "1.4",
                        "fixed": {"EUR": "0.25 EUR", "GBP": "0.20 GBP"},
                        "cross_border_percent": "1.5",
                        "fx_percent": "2",
                    },
                    "settings": {
                        "base_url": "embedded",
                        "currencies": ["EUR", "GBP", "CHF", "SEK", "DKK", "PLN"],
                    },
                },
                "sandbox_us": {
                    "type": "sandbox",
                    "priority": 2,
                    "country": "US",
                    "settlement_currencies": ["USD"],
                    "fees": {
                        "percent": "2.9",
                        "fixed": {"USD": "0.30 USD", "CAD": "0.30 CAD"},
                        "cross_border_percent": "1.5",
                        "fx_percent": "1",
                    },
                    "settings": {
                        "base_url": "embedded",
                        "currencies": ["USD", "CAD", "EUR", "GBP", "MXN"],
                    },
                },
                "sandbox_global": {
                    "type": "sandbox",
                    "priority": 3,
                    "country": "SG",
                    "settlement_currencies": ["USD", "SGD"],
                    "fees": {
                        "percent": "2.4",
                        "fixed": {
                            "USD": "0.50 USD",
                            "EUR": "0.45 EUR",
                            "GBP": "0.40 GBP",
                            "JPY": "70 JPY",
                            "KRW": "650 KRW",
                            "SGD": "0.65 SGD",
                            "HKD": "3.90 HKD",
                            "AUD": "0.75 AUD",
                            "INR": "40 INR",
                            "CNY": "3.50 CNY",
                            "KWD": "0.150 KWD",
                            "BHD": "0.190 BHD",
                            "JOD": "0.350 JOD",
                            "AED": "1.80 AED",
                            "BRL": "2.70 BRL",
                            "ZAR": "9 ZAR",
                        },
                        "cross_border_percent": "1.0",
                        "fx_percent": "1.5",
                    },
                    "settings": {
                        "base_url": "embedded",
                        "currencies": [
                            "USD",
                            "EUR",
                            "GBP",
                            "JPY",
                            "KRW",
                            "SGD",
                            "HKD",
                            "AUD",
                            "INR",
                            "CNY",
                            "KWD",
                            "BHD",
                            "JOD",
                            "AED",
                            "BRL",
                            "ZAR",
                        ],
                    },
                },
            },
        },
        "the built-in sandbox configuration",
    )

"""Tables. Amounts are BIGINT minor units; the money invariants are also CHECK constraints,
so even a bug in the service cannot store captured > authorized or refunded > captured."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
SerialKey: Any = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Amount = sa.BigInteger

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("capture_mode", sa.String(16), nullable=False),
    sa.Column("method_type", sa.String(24), nullable=False),
    sa.Column("brand", sa.String(24)),
    sa.Column("funding", sa.String(16)),
    sa.Column("issuer_country", sa.String(2)),
    sa.Column("last4", sa.String(4)),
    sa.Column("reference", sa.String(128)),
    sa.Column("description", sa.String(255)),
    sa.Column("customer_country", sa.String(2)),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("provider", sa.String(64)),
    sa.Column("provider_reference", sa.String(128)),
    sa.Column("authorized", Amount, nullable=False),
    sa.Column("captured", Amount, nullable=False),
    sa.Column("refunded", Amount, nullable=False),
    sa.Column("fees", Amount, nullable=False),
    sa.Column("decline_code", sa.String(40)),
    sa.Column("decline_message", sa.String(255)),
    sa.Column("next_action", JSONType),
    sa.Column("route", JSONType),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Set by the instance reconciling the payment; others leave it alone until then.
    sa.Column("reconcile_until", UTCDateTime()),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("authorized >= 0 AND authorized <= amount", name="authorized_range"),
    sa.CheckConstraint("captured >= 0 AND captured <= authorized", name="captured_le_authorized"),
    sa.CheckConstraint("refunded >= 0 AND refunded <= captured", name="refunded_le_captured"),
    sa.Index(None, "merchant_id", "id"),
    sa.Index(None, "provider", "provider_reference"),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime()),
    sa.Column("provider_reference", sa.String(128)),
    sa.Column("decline_code", sa.String(40)),
    sa.Column("decision", sa.String(16)),
    sa.Column("provider_code", sa.String(128)),
    sa.Column("message", sa.String(500)),
    sa.Column("refund_id", sa.String(40)),
    sa.Column("final", sa.Boolean, nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.UniqueConstraint("payment_id", "seq"),
    sa.Index(None, "provider", "provider_reference"),
    sa.Index(None, "status", "started_at"),  # the reconciler's search for open attempts
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(255)),
    sa.Column("provider_reference", sa.String(128)),
    sa.Column("decline_code", sa.String(40)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index(None, "payment_id"),
    sa.Index(None, "merchant_id", "id"),
)

payment_events = sa.Table(
    "payment_events",
    metadata,
    sa.Column("id", SerialKey, primary_key=True, autoincrement=True),
    sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("type", sa.String(48), nullable=False),
    sa.Column("from_status", sa.String(24)),
    sa.Column("to_status", sa.String(24)),
    sa.Column("data", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "payment_id", "id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("merchant_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("resource_id", sa.String(40)),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", JSONType),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", SerialKey, primary_key=True, autoincrement=True),
    sa.Column("transaction_id", sa.String(40), nullable=False),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("payment_id", sa.String(40), sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("refund_id", sa.String(40)),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("account", sa.String(96), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "payment_id"),
    sa.Index(None, "merchant_id", "account", "currency"),
)

webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column("id", SerialKey, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("event_type", sa.String(96), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("error", sa.String(500)),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("processed_at", UTCDateTime()),
    sa.UniqueConstraint("account", "event_id"),
    sa.Index(None, "status", "id"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", SerialKey, primary_key=True, autoincrement=True),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("payment_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(48), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Index(None, "status", "next_attempt_at"),
)

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("description", sa.String(255)),
    # The whsec_ signing secret, sealed with AES-GCM (gatewayhub.outbound.sealing).
    sa.Column("secret", sa.String(255), nullable=False),
    # After a rotation, the secret it replaced (sealed too) also signs until it expires.
    sa.Column("previous_secret", sa.String(255)),
    sa.Column("previous_secret_expires_at", UTCDateTime()),
    sa.Column("events", JSONType),  # None: every event type
    sa.Column("allow_private", sa.Boolean, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(255)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index(None, "merchant_id", "id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column(
        "endpoint_id",
        sa.String(40),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("merchant_id", sa.String(64), nullable=False),
    sa.Column("outbox_id", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(40), nullable=False),  # the webhook-id, same on every try
    sa.Column("event_type", sa.String(48), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("give_up_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_attempt_at", UTCDateTime()),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("outbox_id", "endpoint_id"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "endpoint_id", "id"),
    sa.Index(None, "merchant_id", "event_id"),
)

merchants = sa.Table(
    "merchants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# Only a SHA-256 of each key's secret is kept: the key is shown once, when it is made. The
# secret is 256 random bits, so a fast hash is enough (no password stretching needed).
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("merchant_id", sa.String(64), sa.ForeignKey("merchants.id"), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Index(None, "merchant_id"),
)

"""Sandbox webhooks: Standard Webhooks v1 signatures over the raw body, JSON events."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import ValidationError

from gatewayhub.models import ProviderEvent
from gatewayhub.provider import WebhookVerificationError
from gatewayhub.webhooks import standard
from gatewayhub_sandbox import transform, wire


def verify(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: datetime, tolerance: int
) -> None:
    """Raise unless the body is signed by one of `secrets` and fresh."""
    standard.verify(secrets, headers, body, now, tolerance)


def parse(body: bytes) -> list[ProviderEvent]:
    """The single event of a sandbox webhook."""
    try:
        item = wire.Event.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise WebhookVerificationError("malformed", f"not a sandbox event: {exc}") from None
    return [transform.event(item)]

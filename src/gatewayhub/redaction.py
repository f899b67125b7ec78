"""Keep card numbers and credentials out of logs and error messages.

`redact` masks Luhn-valid 12-19 digit runs (keeping BIN and last four, the most PCI DSS
allows to display), CVC fields, OAuth token and client-secret fields, bearer tokens and
well-known secret prefixes. Installed as a log
record factory, it applies to every record of the `gatewayhub*` loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){11,18}(?!\d)")
_CVC_FIELD = re.compile(
    r"""(?ix)("?(?:cvc|cvv|cvv2|cvn|security_?code|card_?verification)"?\s*[:=]\s*"?)\d{3,4}"""
)
# OAuth answers and form bodies carry tokens and client secrets as named fields.
_TOKEN_FIELD = re.compile(
    r"""(?ix)("?(?:access_token|refresh_token|id_token|client_secret)"?\s*[:=]\s*"?)[^"&\s,}]+"""
)
_SECRETS = re.compile(
    r"""(?x)
    (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{6,}     # Stripe-style keys
    | whsec_[A-Za-z0-9+/=]{6,}                      # webhook signing secrets
    | sk_sandbox_[A-Za-z0-9]{6,}                    # sandbox provider keys
    | (?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}          # bearer tokens
    | (?i:basic)\s+[A-Za-z0-9+/=]{8,}
    """
)
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-razorpay-signature",
    }
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if not _luhn(digits):
        return match.group(0)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def redact(text: str) -> str:
    """`text` with card numbers masked and CVCs and secrets replaced by `[REDACTED]`."""
    text = _DIGIT_RUN.sub(_mask_pan, text)
    text = _CVC_FIELD.sub(lambda m: f"{m.group(1)}***", text)
    text = _TOKEN_FIELD.sub(lambda m: f"{m.group(1)}[REDACTED]", text)
    return _SECRETS.sub("[REDACTED]", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with credentials replaced."""
    return {
        name: "[REDACTED]" if name.lower() in SENSITIVE_HEADERS else redact(value)
        for name, value in headers.items()
    }


_installed = False


def install_log_redaction() -> None:
    """Redact every log record created by a `gatewayhub` logger or a provider package.

    Done in the record factory rather than a logger filter, because filters on a logger do
    not apply to its children, and handlers belong to the application.
    """
    global _installed  # noqa: PLW0603 - installing a process-wide hook exactly once
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith("gatewayhub"):
            message = record.getMessage()
            record.msg = redact(message)
            record.args = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True

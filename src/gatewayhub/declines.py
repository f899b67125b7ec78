"""Translating provider decline codes into the canonical vocabulary, with a plain table.

Each adapter writes a table `provider code -> DeclineCode` (optionally with its own decision
or hardness); the defaults below fill in what the core does with each canonical code. A code
missing from an adapter's table becomes a final generic decline, is logged, and is counted in
`unmapped_codes()` so the table can grow.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from gatewayhub.errors import Decision, Decline, DeclineCode

log = logging.getLogger("gatewayhub.declines")

C = DeclineCode
# canonical code -> (decision, hard). Hard declines are never retried nor cascaded.
DEFAULTS: Mapping[DeclineCode, tuple[Decision, bool]] = {
    C.INSUFFICIENT_FUNDS: (Decision.FINAL, False),
    C.EXPIRED_CARD: (Decision.FINAL, True),
    C.INCORRECT_CVC: (Decision.FINAL, True),
    C.INVALID_CARD: (Decision.FINAL, True),
    C.CARD_BLOCKED: (Decision.FINAL, True),
    C.FRAUD_SUSPECTED: (Decision.FINAL, True),
    C.DO_NOT_HONOR: (Decision.FINAL, False),
    C.GENERIC_DECLINE: (Decision.FINAL, False),
    C.ISSUER_UNAVAILABLE: (Decision.RETRY_SAME, False),
    C.PROCESSING_ERROR: (Decision.RETRY_SAME, False),
    C.AUTHENTICATION_REQUIRED: (Decision.STEP_UP, False),
    C.LIMIT_EXCEEDED: (Decision.FINAL, False),
    C.CURRENCY_NOT_SUPPORTED: (Decision.FAILOVER, False),
    C.INVALID_REQUEST: (Decision.FINAL, False),
    C.PROVIDER_AUTH_FAILED: (Decision.FAILOVER, False),
    C.RATE_LIMITED: (Decision.RETRY_SAME, False),
    C.PROVIDER_UNAVAILABLE: (Decision.FAILOVER, False),
    C.OUTCOME_UNKNOWN: (Decision.RECONCILE, False),
}

# Advice codes (card networks / Stripe) that forbid any retry of the same card.
NEVER_RETRY_ADVICE = frozenset({"do_not_try_again", "do_not_retry", "never_retry", "03", "21"})

_unmapped: Counter[tuple[str, str]] = Counter()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class CodeRule:
    """What one provider code means."""

    code: DeclineCode
    decision: Decision
    hard: bool


def decline_table(
    entries: Mapping[
        str, DeclineCode | tuple[DeclineCode, Decision] | tuple[DeclineCode, Decision, bool]
    ],
) -> dict[str, CodeRule]:
    """Build an adapter's table; bare codes take the default decision and hardness."""
    table = {}
    for provider_code, entry in entries.items():
        if isinstance(entry, DeclineCode):
            decision, hard = DEFAULTS[entry]
            table[provider_code] = CodeRule(entry, decision, hard)
        elif len(entry) == 2:
            table[provider_code] = CodeRule(entry[0], entry[1], DEFAULTS[entry[0]][1])
        else:
            table[provider_code] = CodeRule(*entry)
    return table


def translate(
    table: Mapping[str, CodeRule],
    provider: str,
    provider_code: str,
    message: str = "",
    advice: str | None = None,
) -> Decline:
    """The canonical decline for `provider_code`; an advice never to retry makes it hard."""
    rule = table.get(provider_code)
    if rule is None:
        with _lock:
            _unmapped[(provider, provider_code)] += 1
        log.warning(
            "unmapped %s decline code %r: treated as a final generic decline",
            provider,
            provider_code,
        )
        rule = CodeRule(DeclineCode.GENERIC_DECLINE, Decision.FINAL, False)
    hard = rule.hard or (advice is not None and advice.lower() in NEVER_RETRY_ADVICE)
    decision = Decision.FINAL if hard and rule.decision is not Decision.STEP_UP else rule.decision
    return Decline(rule.code, decision, provider_code, message, hard, advice)


def unmapped_codes() -> dict[tuple[str, str], int]:
    """(provider, code) -> how often an unmapped code was seen since start."""
    with _lock:
        return dict(_unmapped)

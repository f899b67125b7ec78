"""Re-sealing every stored webhook signing secret under the current encryption key.

Rotating `[webhooks] encryption_key` seals new secrets with the new key, while the old key
stays in `previous_encryption_keys` to open the secrets sealed before. `reseal_secrets`
seals all of those again with the current key; after it, the old key can be dropped.

Every secret is opened before anything is written, so a secret no configured key opens
stops the run with nothing changed. Rows are then written one at a time, each only if it
still holds what was read: a gateway that rotates an endpoint's secret meanwhile wins (its
new secret is sealed with the current key already), and that row is read again.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatewayhub.errors import ConfigError
from gatewayhub.outbound.sealing import SecretBox
from gatewayhub.outbound.store import OutboundStore, SealedSecrets

_ATTEMPTS = 5  # reads of one row raced by rotations before giving up on it


@dataclass(frozen=True, slots=True)
class Resealed:
    """What a re-sealing run did, counted in secrets (an endpoint has one or two)."""

    key_id: str  # the current key, which now seals every secret
    resealed: int
    already_current: int


def _resealed(box: SecretBox, row: SealedSecrets) -> SealedSecrets:
    """The row with each of its secrets sealed with the current key."""

    def again(stored: str) -> str:
        if box.sealed_with_current(stored):
            return stored
        return box.seal(box.open(stored, row.endpoint_id), row.endpoint_id)

    previous = again(row.previous) if row.previous is not None else None
    return SealedSecrets(row.endpoint_id, again(row.secret), previous)


async def reseal_secrets(store: OutboundStore, box: SecretBox) -> Resealed:
    """Seal every endpoint's secrets with the current key (see the module's docstring)."""
    key_id = box.current_key_id
    planned: list[tuple[SealedSecrets, SealedSecrets]] = []
    unreadable = set()
    for row in await store.sealed_secrets():
        try:
            planned.append((row, _resealed(box, row)))
        except ConfigError:
            unreadable.add(row.endpoint_id)
    if unreadable:
        raise ConfigError(
            f"{len(unreadable)} webhook endpoint(s) have secrets no configured key opens "
            f"({', '.join(sorted(unreadable)[:5])}); add the key that sealed them to "
            "previous_encryption_keys and run again. Nothing was changed."
        )
    resealed = total = 0
    for row, now in planned:
        changed, secrets = await _write(store, box, row, now)
        resealed, total = resealed + changed, total + secrets
    return Resealed(key_id, resealed, total - resealed)


async def _write(
    store: OutboundStore, box: SecretBox, row: SealedSecrets, now: SealedSecrets
) -> tuple[int, int]:
    """(secrets re-sealed, secrets the endpoint has) for one endpoint, read again as long as
    a rotation races the write."""
    for _ in range(_ATTEMPTS):
        changed = (now.secret != row.secret) + (now.previous != row.previous)
        if not changed or await store.replace_sealed(row, now):
            return changed, 1 if row.previous is None else 2
        fresh = await store.sealed_secrets(row.endpoint_id)
        if not fresh:
            return 0, 0  # deleted meanwhile
        row = fresh[0]
        now = _resealed(box, row)
    raise ConfigError(
        f"webhook endpoint {row.endpoint_id} kept changing while being re-sealed; run again"
    )

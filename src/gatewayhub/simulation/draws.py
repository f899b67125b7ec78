"""Seeded random draws that depend only on (seed, payment row, stream).

Each payment gets its own uniform numbers: one per attempt for "approved?", one per attempt
for "soft or hard decline?", one for "refunded later?". They come from SplitMix64 applied
to a counter, not from a sequential generator, so a payment draws the same numbers whatever
the chunk size, the strategy, or the engine (vectorized or the per-payment reference loop).
The same draws under every strategy ("common random numbers") mean differences between
strategies come from routing, not from luck.
"""

from __future__ import annotations

import numpy as np

from gatewayhub.simulation.transactions import F64, I64, U64

APPROVE = 0  # streams APPROVE + attempt
SOFT = 16  # streams SOFT + attempt
REFUND = 32
_STREAMS = 64
_SCALE = 2.0**-53


def _splitmix64(z: U64) -> U64:
    # uint64 arithmetic wraps modulo 2**64, which is what SplitMix64 wants.
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: U64 = z ^ (z >> np.uint64(31))
    return mixed


def uniforms(seed: int, stream: int, rows: I64) -> F64:
    """Uniform numbers in [0, 1), one per row index in `rows`."""
    key = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    counter = rows.astype(np.uint64) * np.uint64(_STREAMS) + np.uint64(stream)
    bits = _splitmix64(counter ^ key)
    return (bits >> np.uint64(11)).astype(np.float64) * _SCALE

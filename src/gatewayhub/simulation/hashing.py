"""The router's payment-id hashes (CRC-32), for many payments at once.

`Router` hashes the payment id to pick a volume-split arm (`crc32(id) % total weight`) and,
when exploring, hashes `id + account` to order the accounts. The simulator needs the same
numbers for millions of ids. CRC-32 is linear over GF(2), so for a fixed suffix `b`:

    crc32(a + b) = Z(crc32(a)) ^ crc32(b)

where Z is "run the CRC register over len(b) zero bytes", a linear map that four 256-entry
tables apply to a whole array at once. So one zlib call per payment id gives every
`id + account` hash.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from gatewayhub.simulation.transactions import U64

_MASK = 0xFFFFFFFF


def crc32_each(texts: Sequence[str]) -> U64:
    """`zlib.crc32(text.encode())` of every text, as uint64."""
    return np.fromiter(map(zlib.crc32, map(str.encode, texts)), dtype=np.uint64, count=len(texts))


def _zero_shift_tables(length: int) -> list[U64]:
    zeros = bytes(length)

    def shift(register: int) -> int:
        # zlib pre- and post-inverts the register; undo both to get the bare linear map.
        return zlib.crc32(zeros, register ^ _MASK) ^ _MASK

    return [
        np.array([shift(v << (8 * byte)) for v in range(256)], dtype=np.uint64) for byte in range(4)
    ]


def crc32_suffixed(prefix_crcs: U64, suffix: str) -> U64:
    """`crc32(prefix + suffix)` for every prefix, from the prefixes' own CRCs."""
    data = suffix.encode()
    tables = _zero_shift_tables(len(data))
    out = np.full(prefix_crcs.shape, zlib.crc32(data), dtype=np.uint64)
    for byte, table in enumerate(tables):
        out ^= table[(prefix_crcs >> np.uint64(8 * byte)) & np.uint64(0xFF)]
    return out

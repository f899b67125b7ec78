"""Provider keys as 32 hex digits and back (`gatewayhub.idempotency`)."""

from __future__ import annotations

import pytest

from gatewayhub.idempotency import key_from_hex, key_hex


@pytest.mark.parametrize(
    "key", ["6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01", "6F1C2A34-0D55-5B7E-9A41-2F2A7C0F1E01"]
)
def test_a_uuid_key_is_its_hex_digits_and_back(key: str) -> None:
    assert key_hex(key) == "6f1c2a340d555b7e9a412f2a7c0f1e01"
    assert key_from_hex(key_hex(key)) == "6f1c2a34-0d55-5b7e-9a41-2f2a7c0f1e01"


def test_any_other_key_is_hashed_to_the_same_shape() -> None:
    hexed = key_hex("order-1001")
    assert hexed == key_hex("order-1001")
    assert len(hexed) == 32
    assert set(hexed) <= set("0123456789abcdef")
    assert key_hex("order-1002") != hexed


@pytest.mark.parametrize("text", [None, "", "20190815155618536-564-57", "zz" + "0" * 30])
def test_order_numbers_we_did_not_make_name_no_key(text: str | None) -> None:
    assert key_from_hex(text) is None

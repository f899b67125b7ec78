"""RSA2 (SHA256withRSA) as the Alipay gateway uses it, exact to the byte.

Requests: every parameter sent except `sign`, empty values dropped, sorted by key, joined as
`key=value` with `&` (raw values, not URL-encoded), UTF-8, PKCS#1 v1.5 + SHA-256, standard
base64. Notifications: the same string over the received fields with `sign` AND `sign_type`
removed. Synchronous responses: the signature covers the raw bytes of the `<method>_response`
member exactly as received (escapes such as `\\/` kept), never a re-serialization, so the
member is cut out of the body with a small scanner instead of being parsed and re-dumped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

_WHITESPACE = b" \t\r\n"
_QUOTE, _BACKSLASH = 0x22, 0x5C


def sign_content(params: Mapping[str, str]) -> str:
    """The string a request is signed over: sorted `k=v` pairs without `sign` or empty values."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key]
    )


def notify_content(fields: Mapping[str, str]) -> str:
    """The string an asynchronous notification is signed over (`sign` and `sign_type` out)."""
    return sign_content({k: v for k, v in fields.items() if k != "sign_type"})


def sign(key: RSAPrivateKey, content: str) -> str:
    """The base64 RSA2 signature of `content` (UTF-8)."""
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(keys: Sequence[RSAPublicKey], content: bytes, signature: str) -> bool:
    """True when `signature` (base64) over `content` verifies with one of `keys` (rotation)."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    for key in keys:
        try:
            key.verify(raw, content, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def response_key(method: str) -> str:
    """The member of a response that carries `method`'s answer: dots become underscores."""
    return method.replace(".", "_") + "_response"


def raw_member(body: bytes, name: str) -> bytes | None:
    """The exact bytes of the value of top-level member `name` of the JSON object `body`.

    `body` must already be known to be valid JSON (the caller parsed it); None when the
    member is absent. Works on UTF-8 bytes: multi-byte sequences never contain the ASCII
    bytes the scanner looks for.
    """
    i = _skip(body, 0)
    if i >= len(body) or body[i] != ord("{"):
        return None
    i = _skip(body, i + 1)
    while i < len(body) and body[i] != ord("}"):
        key_end = _string_end(body, i)
        key = json.loads(body[i:key_end])
        i = _skip(body, key_end)
        if body[i] != ord(":"):
            raise ValueError("malformed JSON object")
        start = _skip(body, i + 1)
        end = _value_end(body, start)
        if key == name:
            return body[start:end]
        i = _skip(body, end)
        if i < len(body) and body[i] == ord(","):
            i = _skip(body, i + 1)
    return None


def _skip(body: bytes, i: int) -> int:
    while i < len(body) and body[i] in _WHITESPACE:
        i += 1
    return i


def _string_end(body: bytes, i: int) -> int:
    if body[i] != _QUOTE:
        raise ValueError("malformed JSON string")
    i += 1
    while i < len(body):
        if body[i] == _BACKSLASH:
            i += 2
        elif body[i] == _QUOTE:
            return i + 1
        else:
            i += 1
    raise ValueError("unterminated JSON string")


def _value_end(body: bytes, i: int) -> int:
    if body[i] == _QUOTE:
        return _string_end(body, i)
    if body[i] in b"{[":
        depth = 0
        while i < len(body):
            if body[i] == _QUOTE:
                i = _string_end(body, i)
                continue
            if body[i] in b"{[":
                depth += 1
            elif body[i] in b"}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise ValueError("unterminated JSON value")
    while i < len(body) and body[i] not in b",}]" + _WHITESPACE:
        i += 1
    return i

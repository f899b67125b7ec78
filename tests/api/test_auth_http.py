"""Authentication over HTTP: API keys, JWTs (HS256, RS256, ES256) with kid rotation, expiry,
audience and scopes, and the per-merchant rate limit."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gatewayhub.hub import Hub
from gatewayhub.shared.ratelimit import LocalRateLimiter, RateLimit
from gatewayhub.testing import FixedClock

from .conftest import HS_SECRET, PAYMENT, Client, MakeApi, new_merchant

PAY = "/v1/payments"
OLD_HS_SECRET = "test-only-hs256-previous-secret-32-bytes-or-more"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


JWT_KEYS = [
    {"kid": "hs-2026", "algorithm": "HS256", "secret": HS_SECRET},
    {"kid": "hs-2025", "algorithm": "HS256", "secret": OLD_HS_SECRET},
    {"kid": "rsa-1", "algorithm": "RS256", "public_key": _pem(RSA_KEY)},
    {"kid": "ec-1", "algorithm": "ES256", "public_key": _pem(EC_KEY)},
]


@pytest.fixture
async def jwt_api(make_api: MakeApi) -> tuple[Hub, Client]:
    return await make_api(auth={"jwt_keys": JWT_KEYS, "jwt_audience": "gatewayhub-test"})


def token(hub: Hub, kid: str, key: Any, algorithm: str, **claims: Any) -> str:
    now = int(hub.clock.now().timestamp())
    body = {
        "sub": "mer_platform_1",
        "aud": "gatewayhub-test",
        "exp": now + 300,
        "scope": "payments:read payments:write",
        **claims,
    }
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm, headers={"kid": kid}
    )


@pytest.mark.parametrize(
    ("kid", "algorithm"),
    [("hs-2026", "HS256"), ("hs-2025", "HS256"), ("rsa-1", "RS256"), ("ec-1", "ES256")],
)
async def test_a_token_from_every_configured_key_is_accepted(
    jwt_api: tuple[Hub, Client], kid: str, algorithm: str
) -> None:
    hub, anonymous = jwt_api
    key = {
        "hs-2026": HS_SECRET,
        "hs-2025": OLD_HS_SECRET,
        "rsa-1": RSA_KEY,
        "ec-1": EC_KEY,
    }[kid]
    client = anonymous.as_(token(hub, kid, key, algorithm))
    created = await client.call("POST", PAY, json=PAYMENT)
    assert created.status_code == 201
    listed = await client.call("GET", PAY)
    assert [p["id"] for p in listed.json()["data"]] == [created.json()["id"]]


async def test_the_subject_is_the_merchant(jwt_api: tuple[Hub, Client]) -> None:
    hub, anonymous = jwt_api
    one = anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256", sub="mer_one"))
    two = anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256", sub="mer_two"))
    payment = (await one.call("POST", PAY, json=PAYMENT)).json()
    seen = await two.call("GET", "/v1/payments/{payment_id}", path={"payment_id": payment["id"]})
    assert seen.status_code == 404


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (
            lambda h: token(
                h, "hs-2026", HS_SECRET, "HS256", exp=int(h.clock.now().timestamp()) - 31
            ),
            "expired",
        ),
        (lambda h: token(h, "hs-2026", HS_SECRET, "HS256", aud="someone-else"), "another audience"),
        (lambda h: token(h, "hs-2026", HS_SECRET, "HS256", aud=None), "'aud'"),
        (lambda h: token(h, "hs-2026", HS_SECRET, "HS256", exp=None), "'exp'"),
        (lambda h: token(h, "hs-2024", HS_SECRET, "HS256"), "kid names no configured key"),
        (lambda h: token(h, "hs-2026", OLD_HS_SECRET, "HS256"), "signature"),
        (lambda h: token(h, "rsa-1", HS_SECRET, "HS256"), "signs with RS256 only"),
        (
            lambda h: token(
                h, "hs-2026", HS_SECRET, "HS256", nbf=int(h.clock.now().timestamp()) + 120
            ),
            "not valid yet",
        ),
        (lambda h: "not.a.jwt", "well-formed"),
    ],
    ids=[
        "expired",
        "audience",
        "no-aud",
        "no-exp",
        "retired-kid",
        "wrong-secret",
        "alg-confusion",
        "nbf",
        "garbage",
    ],
)
async def test_tokens_that_do_not_hold_are_401(
    jwt_api: tuple[Hub, Client], make: Any, why: str
) -> None:
    hub, anonymous = jwt_api
    answer = await anonymous.as_(make(hub)).call("GET", PAY)
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"
    assert why in answer.json()["detail"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_expiry_follows_the_clock_with_leeway(jwt_api: tuple[Hub, Client]) -> None:
    hub, anonymous = jwt_api
    client = anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256"))
    assert (await client.call("GET", PAY)).status_code == 200
    hub.clock.advance(300 + 30)  # type: ignore[attr-defined]
    assert (await client.call("GET", PAY)).status_code == 200, "within the 30 s leeway"
    hub.clock.advance(1)  # type: ignore[attr-defined]
    assert (await client.call("GET", PAY)).status_code == 401


async def test_scopes_decide_what_a_caller_may_do(jwt_api: tuple[Hub, Client]) -> None:
    hub, anonymous = jwt_api
    reader = anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256", scope="payments:read"))
    denied = await reader.call("POST", PAY, json=PAYMENT)
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert "payments:write" in denied.json()["detail"]
    writer = anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256"))
    payment = (await writer.call("POST", PAY, json=PAYMENT)).json()
    no_refunds = await writer.call(
        "POST", "/v1/payments/{payment_id}/refunds", path={"payment_id": payment["id"]}
    )
    assert no_refunds.status_code == 403
    refunder = anonymous.as_(
        token(hub, "hs-2026", HS_SECRET, "HS256", scope="refunds:write unknown:scope")
    )
    refunded = await refunder.call(
        "POST", "/v1/payments/{payment_id}/refunds", path={"payment_id": payment["id"]}
    )
    assert refunded.status_code == 201
    admin = anonymous.as_(token(hub, "ec-1", EC_KEY, "ES256", scope="admin"))
    assert (await admin.call("GET", "/v1/providers")).status_code == 200
    assert (await admin.call("GET", PAY)).status_code == 200, "admin allows everything"


async def test_api_keys(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    missing = await anonymous.call("GET", PAY)
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    key = await new_merchant(hub, scopes=["payments:read"])
    assert (await anonymous.as_(key).call("GET", PAY)).status_code == 200
    assert (await anonymous.as_(key).call("POST", PAY, json=PAYMENT)).status_code == 403
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")
    for bad in (tampered, "ghk_short_abc", "sk_live_whatever", key.replace("ghk_", "ghk_X")):
        answer = await anonymous.as_(bad).call("GET", PAY)
        assert answer.status_code == 401, bad
    basic = await anonymous.call("GET", PAY, headers={"Authorization": f"Basic {key}"})
    assert basic.status_code == 401
    stored = await hub.store.db.run(
        lambda c: c.exec_driver_sql("SELECT secret_hash FROM api_keys").scalars().all()
    )
    assert all(key.rsplit("_", 1)[1] not in h for h in stored), "only a hash is stored"


async def test_jwts_are_refused_when_no_key_is_configured(api: tuple[Hub, Client]) -> None:
    hub, anonymous = api
    answer = await anonymous.as_(token(hub, "hs-2026", HS_SECRET, "HS256")).call("GET", PAY)
    assert answer.status_code == 401


async def test_rate_limit_per_merchant(make_api: MakeApi) -> None:
    clock = FixedClock()
    limiter = LocalRateLimiter(RateLimit(rate=1.0, burst=3), clock)
    hub, anonymous = await make_api(limiter=limiter)
    busy = anonymous.as_(await new_merchant(hub, "Busy"))
    calm = anonymous.as_(await new_merchant(hub, "Calm"))
    answers = [await busy.call("GET", PAY) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await calm.call("GET", PAY)).status_code == 200, "another merchant is not limited"
    clock.advance(1.0)
    assert (await busy.call("GET", PAY)).status_code == 200, "one token back after a second"

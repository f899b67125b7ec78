"""Who is calling: merchant API keys and JWT bearer tokens, and what they may do.

`Authorization: Bearer <token>`. A token starting `ghk_` is a merchant API key; one with
two dots is a JWT, whose `kid` header picks one of the configured keys (several may be
listed at once, so keys rotate without downtime). A JWT must carry `sub` (the merchant id),
`aud` (the configured audience), `exp`, and the scopes as a space-separated `scope` claim.
The token's algorithm must be the one configured for its key: an RS256 key never accepts an
HS256 token signed with the public key as a secret.

Time comes from the injected clock, so expiry is testable without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gatewayhub.api.merchants import SCOPES, StoredKey, find_key, split_key
from gatewayhub.api.problems import Problem
from gatewayhub.clock import Clock
from gatewayhub.config import AuthConfig, JWTKeyConfig, resolve_secrets
from gatewayhub.errors import ConfigError
from gatewayhub.storage.database import Database

ADMIN = "admin"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gatewayhub"'}
# A stored key is looked up again after this long, so a revoked key stops working soon.
_KEY_CACHE_SECONDS = 10.0
_MIN_HMAC_BYTES = 32


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the merchant it acts for and its scopes."""

    merchant_id: str
    scopes: frozenset[str]
    credential: str  # the API key id, or "jwt:<kid>"

    def allows(self, scope: str) -> bool:
        """`admin` allows everything."""
        return scope in self.scopes or ADMIN in self.scopes


def unauthorized(detail: str) -> Problem:
    """A 401 with the Bearer challenge."""
    return Problem(401, "unauthorized", detail, headers=_CHALLENGE)


def _verification_key(config: JWTKeyConfig) -> Any:
    where = f"auth.jwt_keys[{config.kid}]"
    if config.algorithm == "HS256":
        secret = str(resolve_secrets(config.secret, f"{where}.secret")).encode()
        if len(secret) < _MIN_HMAC_BYTES:
            raise ConfigError(f"{where}.secret: HS256 needs at least {_MIN_HMAC_BYTES} bytes")
        return secret
    pem = (
        config.public_key_file.read_bytes()
        if config.public_key_file is not None
        else str(config.public_key).encode()
    )
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise ConfigError(f"{where}: not a PEM public key ({exc})") from None
    if config.algorithm == "RS256" and not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(f"{where}: RS256 needs an RSA public key")
    if config.algorithm == "ES256" and not (
        isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    ):
        raise ConfigError(f"{where}: ES256 needs a P-256 public key")
    return key


class Authenticator:
    """Turns an Authorization header into a `Principal`, or raises a 401 `Problem`."""

    def __init__(self, db: Callable[[], Database], config: AuthConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self._jwt_keys = {k.kid: (k.algorithm, _verification_key(k)) for k in config.jwt_keys}
        self._cache: dict[str, tuple[StoredKey, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller, or a 401."""
        if not authorization:
            raise unauthorized("send Authorization: Bearer <API key or JWT>")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("the Authorization scheme must be Bearer")
        if self.config.api_keys and (parts := split_key(token)) is not None:
            return await self._api_key(*parts)
        if self._jwt_keys and token.count(".") == 2:
            return self._jwt(token)
        raise unauthorized("the bearer token is not a valid API key or JWT")

    async def _api_key(self, key_id: str, secret: str) -> Principal:
        cached = self._cache.get(key_id)
        now = time.monotonic()
        if cached is not None and now - cached[1] < _KEY_CACHE_SECONDS:
            stored: StoredKey | None = cached[0]
        else:
            stored = await find_key(self.db(), key_id)
            if stored is not None:
                self._cache[key_id] = (stored, now)
        # The same answer for an unknown id and a wrong secret: ids are not probeable.
        if stored is None or stored.revoked or not stored.matches(secret):
            raise unauthorized("the API key is not valid")
        return Principal(stored.merchant_id, stored.scopes, key_id)

    def _jwt(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("the bearer token is not a well-formed JWT") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._jwt_keys:
            raise unauthorized("the JWT's kid names no configured key")
        algorithm, key = self._jwt_keys[kid]
        config = self.config
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
                options={
                    "require": ["exp", "sub", "aud"],
                    # Times are checked below against the injected clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise unauthorized("the JWT is for another audience") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the JWT is from another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(f"the JWT has no {exc.claim!r} claim") from None
        except jwt.InvalidAlgorithmError:
            raise unauthorized(f"the JWT's key {kid!r} signs with {algorithm} only") from None
        except jwt.PyJWTError:
            raise unauthorized("the JWT's signature does not verify") from None
        now = self.clock.now().timestamp()
        leeway = config.jwt_leeway_seconds
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or now > exp + leeway:
            raise unauthorized("the JWT has expired")
        if nbf is not None and (not isinstance(nbf, int | float) or now < nbf - leeway):
            raise unauthorized("the JWT is not valid yet")
        subject = claims["sub"]
        if not isinstance(subject, str) or not 1 <= len(subject) <= 64:
            raise unauthorized("the JWT's sub must name a merchant")
        scope = claims.get("scope", "")
        granted = (
            frozenset(s for s in scope.split() if s in SCOPES)
            if isinstance(scope, str)
            else frozenset()
        )
        return Principal(subject, granted, f"jwt:{kid}")

"""OAuth2 client credentials for the Payments API: `POST {auth}/connect/token`, form-encoded
(`grant_type=client_credentials`, `client_id`, `client_secret`, `scope`), answered with
`{"access_token", "expires_in", "token_type": "Bearer", "scope"}`.

The token is cached until `expires_in` minus a margin, read from the injected clock; one
refresh runs at a time (concurrent callers wait for it and share its token). A failed token
request means the payment request behind it was never sent: every failure is `NotSent`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pydantic import SecretStr

from gatewayhub.errors import DeclineCode, NotSent, ProviderError
from gatewayhub.provider import ProviderHTTP, read_answer
from gatewayhub_truelayer import wire


class AccessTokens:
    """The cached access token of one account."""

    def __init__(
        self,
        http: ProviderHTTP,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str,
        margin: timedelta,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.margin = margin
        self._token: str | None = None
        self._refresh_at: datetime | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> str | None:
        if self._token is None or self._refresh_at is None:
            return None
        return self._token if self.http.clock.now() < self._refresh_at else None

    async def token(self) -> str:
        """A valid access token, refreshed first when it is due."""
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh()  # another caller refreshed it while we waited
            if cached is not None:
                return cached
            return await self._refresh()

    def invalidate(self) -> None:
        """Forget the token (the API refused it); the next call fetches a new one."""
        self._token = None
        self._refresh_at = None

    async def _refresh(self) -> str:
        request = self.http.build(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret.get_secret_value(),
                "scope": self.scope,
            },
        )
        try:
            response = await self.http.send(request)
        except ProviderError as exc:
            raise NotSent(
                f"{self.http.account}: no access token ({type(exc).__name__}); "
                "the payment request was not sent",
                decline_code=DeclineCode.PROVIDER_UNAVAILABLE,
            ) from exc
        if response.status_code in (400, 401, 403):
            raise NotSent(
                f"{self.http.account}: TrueLayer refused the client credentials "
                f"(HTTP {response.status_code})",
                decline_code=DeclineCode.PROVIDER_AUTH_FAILED,
                status_code=response.status_code,
            )
        if response.status_code != 200:
            raise NotSent(
                f"{self.http.account}: token endpoint answered HTTP {response.status_code}; "
                "the payment request was not sent",
                decline_code=DeclineCode.PROVIDER_UNAVAILABLE,
                retry_after=self.http.retry_after(response),
                status_code=response.status_code,
            )
        # The token moves no money: unreadable, the payment request was not sent.
        answer = read_answer(
            wire.TokenResponse, response, self.http.account, "TrueLayer token", moved_nothing=True
        )
        lifetime = timedelta(seconds=answer.expires_in)
        self._token = answer.access_token
        self._refresh_at = self.http.clock.now() + lifetime - min(self.margin, lifetime / 2)
        return answer.access_token

"""The provider failures the contract suite asks every harness for, made one way.

`fault(scenario)` is a side effect: a function of the request that raises what the transport
would raise, or returns the provider's failure answer. It fits respx (`side_effect=`), a
dictionary of answers served by one respx route, or a transport wrapper, so every harness
arranges `connect_error` as the same never-sent `httpx.ConnectError`, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from gatewayhub.errors import NotSent, OutcomeUnknown, ProviderError

Fault = Callable[[httpx.Request], httpx.Response]

# The scenarios `fault` arranges (see `gatewayhub.testing.contract`).
FAULTS = frozenset(
    {"connect_error", "read_timeout", "malformed", "server_error", "rate_limited", "auth_failed"}
)
_RAISED: Mapping[str, type[httpx.TransportError]] = {
    "connect_error": httpx.ConnectError,  # refused before a byte went out: not sent
    "read_timeout": httpx.ReadTimeout,  # sent, the answer never came: outcome unknown
}
_STATUS: Mapping[str, int] = {"server_error": 500, "rate_limited": 429, "auth_failed": 401}

# Every transport failure httpx raises, with what `ProviderHTTP.send` makes of it (see
# `gatewayhub.provider`), for tests that run each of an adapter's calls against all of them.
TRANSPORT_FAILURES: tuple[tuple[type[httpx.TransportError], type[ProviderError]], ...] = (
    (httpx.ConnectError, NotSent),
    (httpx.ConnectTimeout, NotSent),
    (httpx.PoolTimeout, NotSent),
    (httpx.ReadTimeout, OutcomeUnknown),
    (httpx.WriteTimeout, OutcomeUnknown),
    (httpx.RemoteProtocolError, OutcomeUnknown),
    (httpx.ReadError, OutcomeUnknown),
)


def fault(
    scenario: str,
    *,
    malformed: httpx.Response | None = None,
    answers: Mapping[str, httpx.Response] | None = None,
) -> Fault:
    """The side effect of a failure `scenario`:

    connect_error    raises httpx.ConnectError
    read_timeout     raises httpx.ReadTimeout
    malformed        answers `malformed` (a 2xx body cut short, in the provider's format)
    server_error, rate_limited, auth_failed
                     answer the provider's own answer from `answers` (its error body,
                     a Retry-After...), else an empty 500, 429 or 401
    """
    raised = _RAISED.get(scenario)
    if raised is not None:

        def fail(request: httpx.Request) -> httpx.Response:
            raise raised(f"{scenario} (arranged)", request=request)

        return fail
    if scenario == "malformed":
        if malformed is None:
            raise ValueError("the malformed scenario needs the provider's malformed answer")
        answer = malformed
    elif scenario in _STATUS:
        own = (answers or {}).get(scenario)
        answer = own if own is not None else httpx.Response(_STATUS[scenario])
    else:
        raise ValueError(f"{scenario!r} is not one of {sorted(FAULTS)}")

    def respond(request: httpx.Request) -> httpx.Response:
        # A fresh response per request, as a provider sends: a retry reads its own.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return respond

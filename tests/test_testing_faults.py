"""The failure side effects of the test kit (`gatewayhub.testing.faults`)."""

from __future__ import annotations

import httpx
import pytest

from gatewayhub.testing.faults import FAULTS, fault

REQUEST = httpx.Request("POST", "https://psp.example/v1/payments")


@pytest.mark.parametrize(
    ("scenario", "error"),
    [("connect_error", httpx.ConnectError), ("read_timeout", httpx.ReadTimeout)],
)
def test_transport_failures_raise_as_httpx_would(
    scenario: str, error: type[httpx.TransportError]
) -> None:
    with pytest.raises(error) as raised:
        fault(scenario)(REQUEST)
    assert raised.value.request is REQUEST


@pytest.mark.parametrize(
    ("scenario", "status"), [("server_error", 500), ("rate_limited", 429), ("auth_failed", 401)]
)
def test_http_failures_default_to_an_empty_answer(scenario: str, status: int) -> None:
    response = fault(scenario)(REQUEST)
    assert response.status_code == status
    assert response.content == b""


def test_the_providers_own_answers_are_served_fresh_each_time() -> None:
    own = httpx.Response(429, headers={"Retry-After": "1"}, content=b'{"error": "slow down"}')
    side_effect = fault("rate_limited", answers={"rate_limited": own})
    first, second = side_effect(REQUEST), side_effect(REQUEST)
    assert first is not second
    for response in (first, second):
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.content == b'{"error": "slow down"}'


def test_malformed_serves_the_providers_cut_body() -> None:
    response = fault("malformed", malformed=httpx.Response(201, content=b'{"id": "x", "st'))(
        REQUEST
    )
    assert (response.status_code, response.content) == (201, b'{"id": "x", "st')
    with pytest.raises(ValueError, match="needs the provider's malformed answer"):
        fault("malformed")


def test_other_scenarios_are_refused() -> None:
    assert "approved" not in FAULTS
    with pytest.raises(ValueError, match="'approved' is not one of"):
        fault("approved")

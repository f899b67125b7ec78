"""Reading a provider's answer: `read_answer` parses the body, `read_result` translates it,
`http_failure` says what a status means; what cannot be read is a failure, never a guess."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, ConfigDict

from gatewayhub.errors import DeclineCode, NotSent, OutcomeUnknown
from gatewayhub.money import Money, MoneyError
from gatewayhub.provider import (
    ProviderHTTP,
    Timeouts,
    TraceId,
    http_failure,
    read_answer,
    read_result,
)
from gatewayhub.testing import FixedClock

REQUEST_ID = TraceId("Request-Id", "request")


class Charge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int


def test_reads_the_model_ignoring_extra_fields() -> None:
    response = httpx.Response(201, content=b'{"id": "ch_1", "amount": 1050, "new": true}')
    charge = read_answer(Charge, response, "acct", "Acme")
    assert charge == Charge(id="ch_1", amount=1050)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "ch_1", "amo',  # cut short
        b'{"id": "ch_1", "amount": "lots"}',  # wrong type
        b"",  # nothing
        b"<html>Bad Gateway</html>",  # not JSON
    ],
)
def test_an_unreadable_body_is_an_unknown_outcome(body: bytes) -> None:
    response = httpx.Response(200, content=body)
    with pytest.raises(OutcomeUnknown) as raised:
        read_answer(Charge, response, "acct", "Acme")
    assert raised.value.decline_code is DeclineCode.OUTCOME_UNKNOWN
    assert raised.value.status_code == 200
    assert str(raised.value).startswith("acct: unreadable Acme answer (HTTP 200): ")


def test_the_message_names_the_providers_trace_id_when_it_sent_one() -> None:
    response = httpx.Response(500, content=b"{}", headers={"Request-Id": "req_8Hx2"})
    with pytest.raises(OutcomeUnknown) as raised:
        read_answer(Charge, response, "acct", "Acme", trace=REQUEST_ID)
    assert str(raised.value) == (
        "acct: unreadable Acme answer (HTTP 500, request req_8Hx2): 2 validation errors"
    )
    bare = httpx.Response(500, content=b"{}")
    with pytest.raises(OutcomeUnknown, match=r"\(HTTP 500\): 2 validation errors$"):
        read_answer(Charge, bare, "acct", "Acme", trace=REQUEST_ID)


def test_a_call_that_moves_no_money_was_not_sent() -> None:
    response = httpx.Response(200, content=b'{"access_tok')
    with pytest.raises(NotSent) as raised:
        read_answer(Charge, response, "acct", "Acme", moved_nothing=True)
    assert raised.value.decline_code is DeclineCode.PROVIDER_UNAVAILABLE


def test_a_translated_result_passes_through() -> None:
    assert read_result(lambda: Money(1050, "EUR"), "acct", "Acme") == Money(1050, "EUR")


def test_an_amount_the_translation_cannot_read_is_an_unknown_outcome() -> None:
    def build() -> Money:
        return Money.from_decimal_string("10.505", "EUR")  # finer than the currency

    with pytest.raises(MoneyError):
        build()
    with pytest.raises(OutcomeUnknown) as raised:
        read_result(build, "acct", "Acme", status_code=201)
    assert raised.value.decline_code is DeclineCode.OUTCOME_UNKNOWN
    assert raised.value.status_code == 201
    assert str(raised.value).startswith("acct: unreadable amount in Acme answer: ")


def test_other_errors_of_the_translation_are_not_hidden() -> None:
    def build() -> Money:
        raise KeyError("a bug, not an answer")

    with pytest.raises(KeyError):
        read_result(build, "acct", "Acme")


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (429, NotSent, DeclineCode.RATE_LIMITED),
        (401, NotSent, DeclineCode.PROVIDER_AUTH_FAILED),
        (502, OutcomeUnknown, DeclineCode.PROVIDER_UNAVAILABLE),
    ],
)
async def test_statuses_with_a_common_meaning_keep_it(
    status: int, error: type[Exception], code: DeclineCode
) -> None:
    async with httpx.AsyncClient() as client:
        http = ProviderHTTP(client, account="acct", timeouts=Timeouts(), clock=FixedClock())
        failure = http_failure(httpx.Response(status), http, "Acme")
    assert type(failure) is error
    assert failure.decline_code is code
    assert failure.status_code == status


async def test_any_other_status_is_an_unknown_outcome() -> None:
    async with httpx.AsyncClient() as client:
        http = ProviderHTTP(client, account="acct", timeouts=Timeouts(), clock=FixedClock())
        traced = httpx.Response(418, headers={"Request-Id": "req_8Hx2"})
        failure = http_failure(traced, http, "Acme", trace=REQUEST_ID)
        bare = http_failure(httpx.Response(418), http, "Acme", trace=REQUEST_ID)
    assert type(failure) is OutcomeUnknown
    assert failure.status_code == 418
    assert str(failure) == "acct: unexpected HTTP 418 from Acme, request req_8Hx2"
    assert str(bare) == "acct: unexpected HTTP 418 from Acme"

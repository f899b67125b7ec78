"""Our wire format against the official `stripe` package (a test-only dependency).

Stripe's OpenAPI document is not carried in ../shared/specs, so the SDK's generated types
stand in for it:

- every request the adapter builds in these tests is decoded from its form encoding and
  checked field by field against the SDK's typed parameters (`stripe.params.*Params`
  TypedDicts): names, nesting, literals, integers and booleans;
- every response fixture's fields are checked against the attributes the SDK's resource
  classes declare (PaymentIntent, Charge, Refund, Event, the error object);
- the Stripe-Version we pin is the one this SDK release pins.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin
from urllib.parse import parse_qsl

import httpx
import pytest
import stripe
from stripe._api_version import _ApiVersion
from stripe._error_object import ErrorObject
from stripe._request_options import RequestOptions
from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    RefundCreateParams,
)
from typing_extensions import is_typeddict

from gatewayhub.models import CaptureCall, RefundCall, RetrieveCall, VoidCall
from gatewayhub.money import Money
from gatewayhub_stripe.provider import STRIPE_VERSION

from .harness import FIXTURES, PI_ID, StripeHarness
from .test_transform import ATTEMPT_KEY, PAYMENT_ID, authorize_call

FIXTURE_ROOT = Path(__file__).parent / "fixtures"
OPTIONS = frozenset(RequestOptions.__annotations__)  # client options, never body fields


def test_pinned_version_is_the_sdks() -> None:
    assert STRIPE_VERSION == _ApiVersion.CURRENT


# -- decoding the form and checking it against a TypedDict ---------------------------------------


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][c]=v` and `a[]=v` back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, *rest = key.replace("]", "").split("[")
        node: Any = root
        parts = [head, *rest]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = "" if last else parts[index + 1]
            if last:
                if part == "":
                    node.append(value)
                else:
                    node[part] = value
                break
            container: Any = [] if following == "" else {}
            node = node.setdefault(part, container)
    return root


def resolve(hint: Any, namespace: dict[str, Any]) -> Any:
    if isinstance(hint, str):
        return eval(hint, namespace)  # the SDK's own annotations
    if isinstance(hint, ForwardRef):
        return eval(hint.__forward_arg__, namespace)
    return hint


def check(value: Any, hint: Any, namespace: dict[str, Any], where: str) -> list[str]:
    """Problems of a decoded form value against an SDK annotation (empty: it fits)."""
    hint = resolve(hint, namespace)
    origin = get_origin(hint)
    if origin in (NotRequired, Required):
        return check(value, get_args(hint)[0], namespace, where)
    if origin in (Union, types.UnionType):
        options = [check(value, arg, namespace, where) for arg in get_args(hint)]
        return [] if any(not o for o in options) else [f"{where}: {value!r} fits no variant"]
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        module = vars(sys.modules[hint.__module__])
        problems = [
            f"{where}: missing required {key}"
            for key in hint.__required_keys__ - OPTIONS
            if key not in value
        ]
        for key, item in value.items():
            if key in OPTIONS or key not in hint.__annotations__:
                problems.append(f"{where}.{key}: not a parameter of {hint.__name__}")
                continue
            problems += check(item, hint.__annotations__[key], module, f"{where}.{key}")
        return problems
    if origin is Literal:
        allowed = {str(a).lower() if isinstance(a, bool) else str(a) for a in get_args(hint)}
        fits = isinstance(value, str) and value in allowed
        return [] if fits else [f"{where}: {value!r} not in {sorted(allowed)}"]
    if origin in (dict, typing.Dict) or getattr(hint, "__name__", "") == "UntypedStripeObject":  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for item in value for p in check(item, get_args(hint)[0], namespace, where)]
    if hint is bool:
        return [] if value in ("true", "false") else [f"{where}: {value!r} is not a boolean"]
    if hint is int:
        return [] if value.lstrip("-").isdigit() else [f"{where}: {value!r} is not an integer"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{where}: expected a string"]
    return [f"{where}: cannot check against {hint!r}"]


def assert_fits(pairs: list[tuple[str, str]], params: Any) -> dict[str, Any]:
    body = unflatten(pairs)
    problems = check(body, params, vars(sys.modules[params.__module__]), params.__name__)
    assert problems == []
    return body


def pairs_of(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.content.decode(), keep_blank_values=True)


@pytest.fixture
async def harness() -> AsyncIterator[StripeHarness]:
    harness = StripeHarness()
    yield harness
    await harness.client.aclose()


def test_the_checker_catches_mistakes() -> None:
    wrong = [("amount", "20.00"), ("currency", "usd"), ("confirm", "yes")]
    body = unflatten([*wrong, ("metadata[x]", "1"), ("payment_method_types[]", "card")])
    problems = check(body, PaymentIntentCreateParams, {}, "create")
    assert "create.amount: '20.00' is not an integer" in problems
    assert "create.confirm: 'yes' is not a boolean" in problems
    # the API version this SDK targets has no `payment_method_types` parameter any more
    assert "create.payment_method_types: not a parameter of PaymentIntentCreateParams" in problems
    assert check({"currency": "usd"}, PaymentIntentCreateParams, {}, "c") == [
        "c: missing required amount"
    ]
    assert undeclared({"object": "payment_intent", "amount_refundable": 1}, "pi") == [
        "pi.amount_refundable"
    ]


# -- every request the adapter builds ------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"capture": False},
        {"return_url": None},
        {"metadata": {"cart": "c-17", "channel": "web"}},
        {"money": Money(1000, "JPY"), "description": None, "reference": None},
        {"money": Money(1230, "KWD")},
    ],
)
async def test_create_requests_fit_the_sdk(harness: StripeHarness, fields: dict[str, Any]) -> None:
    route = harness.answer("POST", "/v1/payment_intents", "authorize/approved.json")
    await harness.provider.authorize(authorize_call(**fields))
    body = assert_fits(pairs_of(route.calls.last.request), PaymentIntentCreateParams)
    assert body["confirm"] == "true"


@pytest.mark.parametrize("multicapture", [False, True])
async def test_capture_requests_fit_the_sdk(multicapture: bool) -> None:
    harness = StripeHarness(multicapture=multicapture)
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/capture", "capture/partial.json")
    await harness.provider.capture(
        CaptureCall(PAYMENT_ID, "cap-key", PI_ID, Money(1500, "USD"), final=False)
    )
    await harness.client.aclose()
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentCaptureParams)


async def test_cancel_request_fits_the_sdk(harness: StripeHarness) -> None:
    route = harness.answer("POST", f"/v1/payment_intents/{PI_ID}/cancel", "void/voided.json")
    await harness.provider.void(VoidCall(PAYMENT_ID, "void-key", PI_ID, Money(2000, "USD")))
    assert_fits(pairs_of(route.calls.last.request), PaymentIntentCancelParams)


@pytest.mark.parametrize("reason", [None, "duplicate", "free text from the merchant"])
async def test_refund_requests_fit_the_sdk(harness: StripeHarness, reason: str | None) -> None:
    route = harness.answer("POST", "/v1/refunds", "refund/partial.json")
    await harness.provider.refund(
        RefundCall(PAYMENT_ID, "rfd_1", "ref-key", PI_ID, Money(500, "USD"), reason)
    )
    assert_fits(pairs_of(route.calls.last.request), RefundCreateParams)


async def test_lookup_queries_fit_the_sdk(harness: StripeHarness) -> None:
    route = harness.answer("GET", f"/v1/payment_intents/{PI_ID}", "retrieve/found.json")
    await harness.provider.retrieve(
        RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), PI_ID)
    )
    assert_fits(
        list(route.calls.last.request.url.params.multi_items()), PaymentIntentRetrieveParams
    )
    route = harness.answer("GET", "/v1/payment_intents/search", "retrieve/search_found.json")
    await harness.provider.retrieve(RetrieveCall(PAYMENT_ID, ATTEMPT_KEY, Money(2000, "USD"), None))
    assert_fits(list(route.calls.last.request.url.params.multi_items()), PaymentIntentSearchParams)


# -- every response fixture ----------------------------------------------------------------------


def declared(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.startswith("_") and n != "OBJECT_NAME"}


RESOURCES = {
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "event": stripe.Event,
    "dispute": stripe.Dispute,
}


def undeclared(obj: dict[str, Any], where: str) -> list[str]:
    """Fields of a fixture object that the SDK's resource class does not declare."""
    kind = obj.get("object")
    cls = RESOURCES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return []
    problems = [f"{where}.{key}" for key in obj if key not in declared(cls)]
    for key, value in obj.items():
        if isinstance(value, dict):
            problems += undeclared(value, f"{where}.{key}")
    if cls is stripe.PaymentIntent:
        for key, nested in (
            ("last_payment_error", stripe.PaymentIntent.LastPaymentError),
            ("next_action", stripe.PaymentIntent.NextAction),
        ):
            if isinstance(obj.get(key), dict):
                problems += [f"{where}.{key}.{k}" for k in obj[key] if k not in declared(nested)]
    if cls is stripe.Charge and isinstance(obj.get("refunds"), dict):
        for refund in obj["refunds"]["data"]:
            problems += undeclared(refund, f"{where}.refunds")
    if cls is stripe.Event:
        problems += undeclared(obj["data"]["object"], f"{where}.data.object")
    return problems


FIXTURE_FILES = sorted(str(p.relative_to(FIXTURE_ROOT)) for p in FIXTURE_ROOT.rglob("*.json"))


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_fields_are_declared_by_the_sdk(name: str) -> None:
    data = FIXTURES.json(name)
    if "error" in data:
        error = data["error"]
        problems = [f"error.{k}" for k in error if k not in declared(ErrorObject)]
        if isinstance(error.get("payment_intent"), dict):
            problems += undeclared(error["payment_intent"], "error.payment_intent")
    elif data.get("object") == "search_result":
        problems = [p for item in data["data"] for p in undeclared(item, "data")]
    else:
        assert data.get("object") in RESOURCES, name
        problems = undeclared(data, data["object"])
    assert problems == []


def test_every_fixture_is_json() -> None:
    assert len(FIXTURE_FILES) > 40
    for name in FIXTURE_FILES:
        json.loads((FIXTURE_ROOT / name).read_bytes())

"""Stripe's typed request parameters (`stripe.params.*Params` TypedDicts of the official SDK,
a test-only dependency) as a checker for our form-encoded requests: decode the bracket
notation back into nested values and check every name, nesting, literal, integer and
boolean against the SDK's annotations."""

from __future__ import annotations

import re
import sys
import types
import typing
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin
from urllib.parse import parse_qsl

import httpx
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

OPTIONS = frozenset(RequestOptions.__annotations__)  # client options, never body fields
# (method, path pattern) -> the SDK's parameters of that endpoint
ENDPOINTS: list[tuple[str, re.Pattern[str], Any]] = [
    ("POST", re.compile(r"^/v1/payment_intents$"), PaymentIntentCreateParams),
    ("POST", re.compile(r"^/v1/payment_intents/[^/]+/capture$"), PaymentIntentCaptureParams),
    ("POST", re.compile(r"^/v1/payment_intents/[^/]+/cancel$"), PaymentIntentCancelParams),
    ("POST", re.compile(r"^/v1/refunds$"), RefundCreateParams),
    ("GET", re.compile(r"^/v1/payment_intents/search$"), PaymentIntentSearchParams),
    ("GET", re.compile(r"^/v1/payment_intents/[^/]+$"), PaymentIntentRetrieveParams),
]


def params_for(method: str, path: str) -> Any:
    """The SDK parameters of an endpoint."""
    for verb, pattern, params in ENDPOINTS:
        if verb == method and pattern.match(path):
            return params
    raise KeyError(f"{method} {path}")


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
    """The decoded body; fails unless every pair fits `params`."""
    body = unflatten(pairs)
    problems = check(body, params, vars(sys.modules[params.__module__]), params.__name__)
    assert problems == []
    return body


def pairs_of(request: httpx.Request) -> list[tuple[str, str]]:
    """A request's form body or query as pairs."""
    if request.method == "GET":
        return list(request.url.params.multi_items())
    return parse_qsl(request.content.decode(), keep_blank_values=True)

"""Running a keyed POST: replay, conflict and in-progress answers, then the stored result."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.context import Api
from gatewayhub.api.idempotency import HEADER, REPLAYED, CoreAnswer, KeyUse, read_key, replay
from gatewayhub.api.problems import PROBLEM_JSON, Problem, json_response, problem_of
from gatewayhub.errors import (
    GatewayError,
    IdempotencyError,
    NotSent,
    OperationPending,
)

log = logging.getLogger("gatewayhub.api")
Answer = tuple[int, Any]
Run = Callable[[str | None], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Rendering:
    """How a route answers from the payment the core stores with a completed key.

    `answer` renders that payment (JSON) as the route does; `stored(status, body)` says
    whether an answer the route just gave was rendered from a payment the core stored with
    the key (then nothing more needs writing)."""

    answer: Callable[[str | bytes], Answer]
    stored: Callable[[int, Any], bool]


def answer_response(status: int, body: Any) -> Response:
    """JSON, or problem JSON for error statuses."""
    return json_response(
        status, body, media_type=PROBLEM_JSON if status >= 400 else "application/json"
    )


async def keyed(
    api: Api,
    request: Request,
    who: Principal,
    operation: str,
    payload: dict[str, Any],
    run: Run,
    rendering: Rendering | None = None,
) -> Response:
    """Run a payment operation whose key the core claims (`run` gets the key).

    The response is stored on the key unless the outcome is still open: an unknown
    provider answer (202) keeps the key held, so a later retry resumes and settles it;
    `NotSent` releases it, nothing having changed. With a `rendering`, the payment the core
    stored with the key is the stored answer: replays are rendered from it."""
    key = read_key(request.headers.get(HEADER))
    use = KeyUse(who.merchant_id, key, operation, payload) if key else None
    replayed = False
    if use is not None:
        stored = await api.keys.answered(use, api.hub.clock.now())
        if isinstance(stored, CoreAnswer) and rendering is not None:
            return replay(*rendering.answer(stored.json()))
        # Without a rendering the route runs again: the core replays its payment.
        replayed = isinstance(stored, CoreAnswer)
        if isinstance(stored, Response):
            return stored
    try:
        status, body = await run(key)
    except OperationPending as exc:
        view = await api.hub.get(exc.payment_id, merchant_id=who.merchant_id)
        return json_response(202, view.model_dump(mode="json"))
    except NotSent:
        if use is not None:
            await api.keys.release(use)
        raise
    except IdempotencyError:
        raise
    except GatewayError as exc:
        problem = problem_of(exc)
        if use is not None and problem.status < 500:
            await api.keys.complete(use, problem.status, problem.document(), api.hub.clock.now())
        return problem.response()
    if use is not None and not (rendering is not None and rendering.stored(status, body)):
        await api.keys.complete(use, status, body, api.hub.clock.now())
    response = answer_response(status, body)
    if replayed:
        response.headers[REPLAYED] = "true"
    return response


async def claimed(
    api: Api,
    request: Request,
    who: Principal,
    operation: str,
    payload: dict[str, Any],
    run: Callable[[], Awaitable[Answer]],
) -> Response:
    """Run an operation the core does not key (no side effects): claim the key here."""
    key = read_key(request.headers.get(HEADER))
    if key is None:
        return answer_response(*await run())
    use = KeyUse(who.merchant_id, key, operation, payload)
    stored = await api.keys.claim(use, api.hub.clock.now())
    if stored is not None:
        return stored
    try:
        status, body = await run()
    except (GatewayError, Problem):
        await api.keys.release(use)
        raise
    await api.keys.complete(use, status, body, api.hub.clock.now())
    return answer_response(status, body)

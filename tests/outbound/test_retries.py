"""Retries on the Standard Webhooks schedule, with the clock under the test's control, and
the SSRF check repeated at delivery time. The endpoint is an httpx MockTransport."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import httpx

from gatewayhub.outbound import DeliveryStatus
from gatewayhub.testing import FixedClock

from .conftest import EUR_10, FakeResolver, MakeHub, drain

PUBLIC = "93.184.216.34"
HOOK = "https://hooks.example/gatewayhub"


class Endpoint:
    """A scripted endpoint: answers from a list (the last repeats), records requests."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, headers={"location": "http://169.254.169.254/"})


async def register(hub: object, **kwargs: object) -> str:
    registered = await hub.endpoints.register("default", HOOK, **kwargs)  # type: ignore[attr-defined]
    return registered.endpoint.id  # type: ignore[no-any-return]


async def test_failures_follow_the_schedule_then_give_up(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    endpoint = Endpoint(500)
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint),
        resolver=FakeResolver({"hooks.example": [PUBLIC]}),
        allow_private_webhook_urls=False,
        jitter=0,
    )
    endpoint_id = await register(hub)
    await hub.authorize(**EUR_10)
    start = clock.now()
    await drain(hub)
    tried_at = [clock.now()]
    while True:
        [delivery] = (await hub.endpoints.deliveries("default", endpoint_id)).items
        if delivery.status is not DeliveryStatus.PENDING:
            break
        assert delivery.next_attempt_at is not None
        clock.advance((delivery.next_attempt_at - clock.now()).total_seconds())
        await drain(hub)
        tried_at.append(clock.now())
    delays = [(b - a).total_seconds() for a, b in itertools.pairwise(tried_at)]
    # 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then 10 h until three days are over.
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000]
    assert tried_at[-1] - start <= timedelta(days=3)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.tries == 12
    assert delivery.last_error == "gave up after 12 tries: HTTP 500"
    assert len(endpoint.requests) == 12
    ids = {r.headers["webhook-id"] for r in endpoint.requests}
    assert len(ids) == 1, "the webhook-id is the same on every try"
    stamps = [int(r.headers["webhook-timestamp"]) for r in endpoint.requests]
    assert stamps == [int(t.timestamp()) for t in tried_at], "each try is signed when sent"
    assert len({r.content for r in endpoint.requests}) == 1, "the body never changes"


async def test_jitter_spreads_retries_within_bounds(make_hub: MakeHub, clock: FixedClock) -> None:
    endpoint = Endpoint(503)
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint),
        resolver=FakeResolver({"hooks.example": [PUBLIC]}),
        allow_private_webhook_urls=False,
    )
    endpoint_id = await register(hub)
    for _ in range(5):
        await hub.authorize(**EUR_10)
    await drain(hub)
    page = await hub.endpoints.deliveries("default", endpoint_id)
    waits = [(d.next_attempt_at - clock.now()).total_seconds() for d in page.items]  # type: ignore[operator]
    assert all(4.0 <= w <= 6.0 for w in waits), waits  # 5 s +- 20 %
    assert len(set(waits)) == 5, "deliveries that failed together do not return together"


async def test_a_shorter_configured_window(make_hub: MakeHub, clock: FixedClock) -> None:
    endpoint = Endpoint(httpx.ConnectError("refused"))
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint),
        resolver=FakeResolver({"hooks.example": [PUBLIC]}),
        allow_private_webhook_urls=False,
        retry_schedule=[10, 60],
        retry_window_seconds=200,
        jitter=0,
    )
    endpoint_id = await register(hub)
    await hub.authorize(**EUR_10)
    for step in (0, 10, 60, 60, 60):
        clock.advance(step)
        await drain(hub)
    [delivery] = (await hub.endpoints.deliveries("default", endpoint_id)).items
    # Tries at 0, 10, 70, 130, 190; the next (250) is past the 200 s window.
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.tries == 5
    assert delivery.last_status_code is None
    assert delivery.last_error == "gave up after 5 tries: ConnectError: refused"


async def test_redirects_are_failures_never_followed(make_hub: MakeHub) -> None:
    endpoint = Endpoint(302)
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint),
        resolver=FakeResolver({"hooks.example": [PUBLIC]}),
        allow_private_webhook_urls=False,
    )
    endpoint_id = await register(hub)
    await hub.authorize(**EUR_10)
    await drain(hub)
    assert len(endpoint.requests) == 1
    [delivery] = (await hub.endpoints.deliveries("default", endpoint_id)).items
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.PENDING, "HTTP 302")


async def test_the_request_goes_to_the_checked_address(make_hub: MakeHub) -> None:
    endpoint = Endpoint(200)
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint),
        resolver=FakeResolver({"hooks.example": [PUBLIC]}),
        allow_private_webhook_urls=False,
    )
    await register(hub)
    await hub.authorize(**EUR_10)
    await drain(hub)
    [request] = endpoint.requests
    assert request.url.host == PUBLIC
    assert request.url.path == "/gatewayhub"
    assert request.headers["host"] == "hooks.example"
    assert request.extensions["sni_hostname"] == "hooks.example"
    assert json.loads(request.content)["type"] == "payment.captured"


async def test_rebinding_to_a_private_address_is_refused_at_delivery(
    make_hub: MakeHub, clock: FixedClock
) -> None:
    endpoint = Endpoint(200)
    dns = FakeResolver({"hooks.example": [PUBLIC]})
    hub = await make_hub(
        transport=httpx.MockTransport(endpoint), resolver=dns, allow_private_webhook_urls=False
    )
    endpoint_id = await register(hub)
    dns.answers["hooks.example"] = ["169.254.169.254"]  # the name now points at metadata
    await hub.authorize(**EUR_10)
    await drain(hub)
    assert endpoint.requests == [], "nothing is sent to a private address"
    [delivery] = (await hub.endpoints.deliveries("default", endpoint_id)).items
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("refused: hooks.example resolves to a non-public")
    dns.answers["hooks.example"] = [PUBLIC, "::ffff:10.0.0.1"]  # one bad answer is enough
    clock.advance(10)
    await drain(hub)
    assert endpoint.requests == []
    dns.answers["hooks.example"] = [PUBLIC]
    clock.advance(400)
    await drain(hub)
    assert len(endpoint.requests) == 1
    [delivery] = (await hub.endpoints.deliveries("default", endpoint_id)).items
    assert delivery.status is DeliveryStatus.DELIVERED

"""POST /v1/simulations: what each routing policy would have cost, for a bounded history.

No money moves and nothing is stored but the idempotency answer. The run is CPU-bound
(numpy), so it goes to a worker thread: payments on the event loop keep being served."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.bodies import json_object, validated
from gatewayhub.api.context import Api
from gatewayhub.api.operations import Answer, claimed
from gatewayhub.api.problems import Problem


async def run_simulation(api: Api, request: Request, who: Principal) -> Response:
    """POST /v1/simulations"""
    try:
        # numpy is the optional `simulation` extra; the gateway runs without it.
        from gatewayhub.simulation.api import (  # noqa: PLC0415
            SimulationRequest,
            run_simulation_request,
        )
    except ImportError:
        raise Problem(
            501,
            "not_implemented",
            "simulations need the optional extra: pip install 'gatewayhub[simulation]'",
        ) from None
    data = await json_object(request, api.service.max_body_bytes, required=True)
    command = validated(SimulationRequest, data)

    async def run() -> Answer:
        return 200, await asyncio.to_thread(run_simulation_request, command)

    return await claimed(api, request, who, "simulation", data, run)

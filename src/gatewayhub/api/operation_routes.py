"""Liveness, readiness, metrics and the API's own documentation."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gatewayhub.api.auth import Principal
from gatewayhub.api.context import Api
from gatewayhub.api.metrics import CONTENT_TYPE
from gatewayhub.api.problems import Problem, json_response


async def healthz(api: Api, request: Request, who: Principal) -> Response:
    """GET /healthz: the process answers."""
    return json_response(200, {"status": "ok"})


async def readyz(api: Api, request: Request, who: Principal) -> Response:
    """GET /readyz: the database answers."""
    try:
        await api.hub.store.db.run(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
    except Exception as exc:
        raise Problem(
            503, "unavailable", f"the database does not answer: {type(exc).__name__}"
        ) from exc
    return json_response(200, {"status": "ok"})


async def metrics(api: Api, request: Request, who: Principal) -> Response:
    """GET /metrics"""
    return Response(api.metrics.render(), 200, media_type=CONTENT_TYPE)


async def openapi_document(api: Api, request: Request, who: Principal) -> Response:
    """GET /openapi.yaml"""
    return Response(api.spec_bytes, 200, media_type="application/yaml")


async def docs_page(api: Api, request: Request, who: Principal) -> Response:
    """GET /docs"""
    return HTMLResponse(api.docs_html)

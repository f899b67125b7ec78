"""gatewayhub's HTTP API (Starlette): `create_app(hub)` serves `openapi.yaml`."""

from gatewayhub.api.app import create_app

__all__ = ["create_app"]

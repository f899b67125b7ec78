"""Reading request bodies: size limit, media type, JSON, then the pydantic model."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from gatewayhub.api.problems import Problem, validation

M = TypeVar("M", bound=BaseModel)


async def raw_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes (checked before and after reading)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "payload_too_large", f"the body may be at most {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise Problem(413, "payload_too_large", f"the body may be at most {limit} bytes")
    return body


async def json_object(request: Request, limit: int, *, required: bool) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` where the body is optional."""
    body = await raw_body(request, limit)
    if not body.strip():
        if required:
            raise validation([{"field": "", "message": "a JSON object body is required"}], 400)
        return {}
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = json.loads(body)
    except ValueError:
        raise validation([{"field": "", "message": "the body is not valid JSON"}], 400) from None
    if not isinstance(data, dict):
        raise validation([{"field": "", "message": "the body must be a JSON object"}], 400)
    where = _nul_at(data, "")
    if where is not None:
        # Neither database stores NUL in text (PostgreSQL refuses it): say so up front.
        raise validation([{"field": where, "message": "must not contain NUL characters"}])
    return data


def _nul_at(value: Any, where: str) -> str | None:
    """The dotted path of the first string holding a NUL character, if any."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if "\x00" in key:
                return path
            found = _nul_at(item, path)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None


_ID = re.compile(r"[A-Za-z0-9_]{1,40}")


def path_id(request: Request, name: str) -> str:
    """A resource id from the path; anything not shaped like one cannot exist (404)."""
    value: str = request.path_params[name]
    if not _ID.fullmatch(value):
        raise Problem(404, "not_found", f"no such {name.removesuffix('_id')}")
    return value


def errors_of(exc: ValidationError) -> list[dict[str, str]]:
    """Field-level errors: dotted location and message (never the rejected value)."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]


def validated(model: type[M], data: dict[str, Any]) -> M:
    """`data` as `model`, or a 422 listing every field that failed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation(errors_of(exc)) from None

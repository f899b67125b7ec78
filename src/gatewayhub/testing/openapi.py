"""Checks JSON against a provider's OpenAPI document (a verbatim copy in the adapter's tests).

Two checks: the JSON Schema of a named component (`$ref`s resolved inside the document), and,
for bodies we build, that every key we send is declared by the schema: the documents rarely
forbid extra properties, and a misspelt field would otherwise pass. Discriminated unions
(`discriminator.mapping`) are followed to the concrete schema.

The JSON Schema dialect follows the document: OpenAPI 3.0 schemas are validated with draft 4
semantics (as 3.0 specifies its schema objects), OpenAPI 3.1 schemas are JSON Schema 2020-12.

Needs jsonschema (in gatewayhub's `test` extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

try:
    from jsonschema import Draft4Validator, Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4, DRAFT202012
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "gatewayhub.testing.openapi needs jsonschema: pip install 'gatewayhub[test]'"
    ) from exc

# OpenAPI major.minor -> (validator class, the dialect `$ref`s are resolved with)
_DIALECTS: dict[str, tuple[Any, Any]] = {
    "3.0": (Draft4Validator, DRAFT4),
    "3.1": (Draft202012Validator, DRAFT202012),
}


class OpenAPI:
    """One OpenAPI document."""

    def __init__(self, path: Path) -> None:
        self.uri = f"urn:spec:{path.name}"
        raw = path.read_bytes()
        self.document: dict[str, Any] = (
            yaml.safe_load(raw) if path.suffix in (".yaml", ".yml") else json.loads(raw)
        )
        version = str(self.document.get("openapi", ""))
        dialect = _DIALECTS.get(".".join(version.split(".")[:2]))
        if dialect is None:
            raise ValueError(f"{path.name}: OpenAPI {version!r} is not 3.0 or 3.1")
        self._validator, specification = dialect
        resource = Resource.from_contents(self.document, default_specification=specification)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self._resolver = self.registry.resolver(self.uri)

    def ref(self, name: str) -> dict[str, Any]:
        """A schema that points at components/schemas/`name`."""
        return {"$ref": f"{self.uri}#/components/schemas/{name}"}

    def errors(self, name: str, instance: Any, *, strict: bool = False) -> list[str]:
        """Everything wrong with `instance` as a `name`; `strict` adds undeclared keys."""
        schema = self.ref(name)
        found = [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in self._validator(schema, registry=self.registry).iter_errors(instance)
        ]
        if strict:
            found.extend(self._undeclared(schema, instance, "<root>"))
        return found

    def check(self, name: str, instance: Any, *, strict: bool = False) -> None:
        """Raise AssertionError listing every problem of `instance` as a `name`."""
        problems = self.errors(name, instance, strict=strict)
        if problems:
            raise AssertionError(f"not a valid {name}: " + "; ".join(problems))

    def response_errors(
        self, method: str, path: str, status: int, media_type: str, body: Any
    ) -> list[str]:
        """Everything wrong with a response of the operation `method path` (a path template
        as written in the document), undeclared keys included. A status or media type the
        operation does not declare is itself an error."""
        operation = self.document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            return [f"{method.upper()} {path} is not in the document"]
        answer = operation["responses"].get(str(status))
        pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{status}"
        if answer is None:
            return [f"{method.upper()} {path} does not declare status {status}"]
        if "$ref" in answer:
            pointer = answer["$ref"].removeprefix("#")
            answer = self._deref(answer)
        content = answer.get("content", {})
        if not content:
            return [] if body in (None, b"", "") else [f"status {status} declares no body"]
        if media_type not in content:
            return [f"status {status} declares {sorted(content)}, not {media_type!r}"]
        schema = {"$ref": f"{self.uri}#{pointer}/content/{_escape(media_type)}/schema"}
        found = [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in self._validator(schema, registry=self.registry).iter_errors(body)
        ]
        return found + self._undeclared(schema, body, "<root>")

    # -- undeclared keys -------------------------------------------------------------------

    def _deref(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            schema = self._resolver.lookup(self._full(ref)).contents
        return schema

    def _full(self, ref: str) -> str:
        return ref if ref.startswith("urn:") else f"{self.uri}{ref}"

    def _concrete(
        self, schema: dict[str, Any], instance: dict[str, Any], where: str
    ) -> tuple[dict[str, Any], list[str]]:
        """The schema a discriminator picks for `instance` (validated against it), or the
        schema itself."""
        schema = self._deref(schema)
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and "mapping" in discriminator:
            chosen = discriminator["mapping"].get(instance.get(discriminator["propertyName"]))
            if chosen is not None:
                ref = {"$ref": self._full(chosen)}
                validator = self._validator(ref, registry=self.registry)
                problems = [f"{where}: {e.message}" for e in validator.iter_errors(instance)]
                return self._deref(ref), problems
        return schema, []

    def _properties(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        schema = self._deref(schema)
        if schema.get("additionalProperties") not in (None, False):
            return None  # free-form map
        properties: dict[str, Any] | None = None
        if "properties" in schema:
            properties = dict(schema["properties"])
        for part in schema.get("allOf", []):
            inner = self._properties(part)
            if inner is not None:
                properties = {**(properties or {}), **inner}
        return properties

    def _undeclared(self, schema: dict[str, Any], instance: Any, where: str) -> list[str]:
        if isinstance(instance, list):
            items = self._deref(schema).get("items")
            if not isinstance(items, dict):
                return []
            return [
                problem
                for index, item in enumerate(instance)
                for problem in self._undeclared(items, item, f"{where}/{index}")
            ]
        if not isinstance(instance, dict):
            return []
        schema, problems = self._concrete(schema, instance, where)
        properties = self._properties(schema)
        if properties is None:
            return problems
        problems += [f"{where}/{key}: not declared" for key in instance if key not in properties]
        for key, value in instance.items():
            if key in properties:
                problems.extend(self._undeclared(properties[key], value, f"{where}/{key}"))
        return problems


def _escape(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")

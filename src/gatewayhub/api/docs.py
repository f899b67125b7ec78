"""The OpenAPI document, and the same document as a plain HTML page (no scripts, no CDN).

The document lives at the repository root (`openapi.yaml`); wheels carry a copy inside this
package (see pyproject's force-include), which is preferred when present.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import yaml

_PACKAGED = Path(__file__).with_name("openapi.yaml")
_CHECKOUT = Path(__file__).parents[3] / "openapi.yaml"
_METHODS = ("get", "post", "put", "patch", "delete")


def spec_path() -> Path:
    """Where the OpenAPI document is."""
    return _PACKAGED if _PACKAGED.is_file() else _CHECKOUT


def load_spec() -> tuple[bytes, dict[str, Any]]:
    """The document's bytes (served as they are) and its parsed form."""
    raw = spec_path().read_bytes()
    return raw, yaml.safe_load(raw)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _paragraphs(text: str | None) -> str:
    if not text:
        return ""
    return "".join(f"<p>{_e(block.strip())}</p>" for block in text.split("\n\n") if block.strip())


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    if "enum" in schema:
        return " | ".join(f"<code>{_e(v)}</code>" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " or ".join(_e(k) for k in kind)
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            return f" {combinator} ".join(_type(s) for s in schema[combinator])
    return _e(kind)


def _resolve(item: dict[str, Any], components: dict[str, Any], kind: str) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    resolved: dict[str, Any] = components[kind][item["$ref"].rsplit("/", 1)[-1]]
    return resolved


def _parameters(params: list[dict[str, Any]], components: dict[str, Any]) -> str:
    rows = []
    for given in params:
        p = _resolve(given, components, "parameters")
        rows.append(
            f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
            f"<td>{_type(p.get('schema', {}))}</td><td>{'yes' if p.get('required') else ''}</td>"
            f"<td>{_e(p.get('description', '')).strip()}</td></tr>"
        )
    head = "<tr><th>name</th><th>in</th><th>type</th><th>required</th><th></th></tr>"
    return f"<table>{head}{''.join(rows)}</table>" if rows else ""


def _responses(responses: dict[str, Any], components: dict[str, Any]) -> str:
    items = []
    for status, given in responses.items():
        answer = _resolve(given, components, "responses")
        shapes = [
            f"<code>{_e(media)}</code> {_type(body.get('schema', {}))}"
            for media, body in answer.get("content", {}).items()
        ]
        items.append(
            f"<li><b>{_e(status)}</b> {_e(answer.get('description', '').strip())}"
            f"{' — ' + ', '.join(shapes) if shapes else ''}</li>"
        )
    return f"<ul>{''.join(items)}</ul>"


def _operation(method: str, path: str, op: dict[str, Any], components: dict[str, Any]) -> str:
    body = ""
    if "requestBody" in op:
        shapes = [
            f"<code>{_e(media)}</code> {_type(c.get('schema', {}))}"
            for media, c in op["requestBody"].get("content", {}).items()
        ]
        body = f"<p><b>Body</b>: {', '.join(shapes)}</p>"
    open_ = " (no authentication)" if op.get("security") == [] else ""
    return (
        f'<section class="op" id="{_e(op.get("operationId", path))}">'
        f'<h3><span class="m {method}">{method.upper()}</span> <code>{_e(path)}</code></h3>'
        f"<p><b>{_e(op.get('summary', ''))}</b>{_e(open_)}</p>{_paragraphs(op.get('description'))}"
        f"{_parameters(op.get('parameters', []), components)}{body}"
        f"<p><b>Responses</b></p>{_responses(op.get('responses', {}), components)}</section>"
    )


def _schema(name: str, schema: dict[str, Any]) -> str:
    parts = [s for s in schema.get("allOf", []) if "$ref" not in s] or [schema]
    bases = [_type(s) for s in schema.get("allOf", []) if "$ref" in s]
    rows = []
    for part in parts:
        required = set(part.get("required", []))
        for prop, sub in part.get("properties", {}).items():
            rows.append(
                f"<tr><td><code>{_e(prop)}</code></td><td>{_type(sub)}</td>"
                f"<td>{'yes' if prop in required else ''}</td>"
                f"<td>{_e(sub.get('description', '')).strip()}</td></tr>"
            )
    table = (
        "<table><tr><th>field</th><th>type</th><th>required</th><th></th></tr>"
        f"{''.join(rows)}</table>"
        if rows
        else f"<p>{_type(schema)}</p>"
    )
    extends = f"<p>Everything in {', '.join(bases)}, and:</p>" if bases else ""
    return (
        f'<section id="schema-{_e(name)}"><h3>{_e(name)}</h3>'
        f"{_paragraphs(schema.get('description'))}{extends}{table}</section>"
    )


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .5em;
text-align:left;vertical-align:top}.op{border-top:1px solid #ccc;padding-top:.5em}
.m{font:bold 13px monospace;padding:.1em .4em;border-radius:3px;color:#fff;background:#555}
.m.get{background:#2a7ab0}.m.post{background:#3a8a3a}nav a{margin-right:.8em}
"""


def render_html(spec: dict[str, Any]) -> str:
    """The whole document as one self-contained HTML page."""
    info = spec.get("info", {})
    components = spec.get("components", {})
    ops = [
        _operation(method, path, item[method], components)
        for path, item in spec.get("paths", {}).items()
        for method in _METHODS
        if method in item
    ]
    index = "".join(
        f'<li><a href="#{_e(item[m].get("operationId", path))}">{m.upper()} {_e(path)}</a></li>'
        for path, item in spec.get("paths", {}).items()
        for m in _METHODS
        if m in item
    )
    schemas = [_schema(n, s) for n, s in components.get("schemas", {}).items()]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(info.get('title', 'API'))} {_e(info.get('version', ''))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{_e(info.get('title', 'API'))} <small>{_e(info.get('version', ''))}</small></h1>"
        f'<nav><a href="/openapi.yaml">openapi.yaml</a></nav>'
        f"{_paragraphs(info.get('description'))}<h2>Operations</h2><ul>{index}</ul>"
        f"{''.join(ops)}<h2>Schemas</h2>{''.join(schemas)}</body></html>"
    )

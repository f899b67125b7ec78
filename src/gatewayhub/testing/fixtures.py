"""Verbatim provider fixtures: files kept exactly as the provider sends them.

Layout: `tests/fixtures/<operation>/<scenario>.json` (or `.txt` for non-JSON bodies), with a
`SOURCES.md` beside them saying where each came from. Bytes are never re-serialized: a
signature over a fixture must verify against the file as stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx


class Fixtures:
    """A fixture directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        """The file `name` ("authorize/approved.json"); missing files fail loudly."""
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"fixture {name} is missing under {self.root}")
        return path

    def raw(self, name: str) -> bytes:
        """The file's exact bytes."""
        return self.path(name).read_bytes()

    def json(self, name: str) -> Any:
        """The file parsed as JSON (for reading fields in tests, never for re-sending)."""
        return json.loads(self.raw(name))

    def response(
        self, name: str, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """An httpx response whose body is the fixture's bytes."""
        content_type = "application/json" if name.endswith(".json") else "text/plain"
        return httpx.Response(
            status_code,
            content=self.raw(name),
            headers={"content-type": content_type, **(headers or {})},
        )

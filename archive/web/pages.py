"""The reading pages (no login needed on 127.0.0.1). Filled in by the reading-pages work."""

from __future__ import annotations

from starlette.routing import BaseRoute


def reading_routes() -> list[BaseRoute]:
    return []

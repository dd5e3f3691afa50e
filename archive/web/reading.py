"""What every reading page shares: who is looking, what time it is, paging, rendering.

The reading pages need no login. Tweets of protected or suspended accounts
(archive/visibility.py) are hidden on every one of them unless the viewer is logged in
AND asks for them with `?include_protected=1`; a page that hid some says so.

The app may carry, besides what create_app sets:

- `state.now`: a callable returning the current aware UTC time (tests and demos pass a
  fixed clock; without it the system clock is read here, at the edge);
- `state.prices`: X's prices (bot/config.Prices: post_read, user_read, post_create) for
  the status page's cost; without it only counts are shown;
- `state.intro_hashtag`: the community hashtag whose introductions /intros lists
  (default #TherapistsConnect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from archive.web.security import logged_in

__all__ = [
    "MAX_PAGE",
    "Viewer",
    "current_time",
    "link_with",
    "page_number",
    "read_session",
    "render",
    "short_time",
    "state_value",
    "viewer",
]

MAX_PAGE = 1000
TEMPLATE_DIR = "reading"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is reading: `include_protected` only when logged in and asked for."""

    logged_in: bool
    include_protected: bool


def viewer(request: Request) -> Viewer:
    signed_in = logged_in(request)
    asked = request.query_params.get("include_protected") == "1"
    return Viewer(logged_in=signed_in, include_protected=signed_in and asked)


def state_value(request: Request, name: str, default: Any = None) -> Any:
    """An optional value the app carries (`app.state.<name>`), else `default`."""
    return getattr(request.app.state, name, default)


def current_time(request: Request) -> datetime:
    clock = state_value(request, "now")
    return clock() if callable(clock) else datetime.now(UTC)


def short_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """'Wed 2 Dec 2026, 20:05' in the community's time zone ('' for no time)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def read_session(request: Request) -> Session:
    """A session on the read-only engine; use it in a `with` block."""
    session: Session = request.app.state.read_sessions()
    return session


def page_number(request: Request, name: str = "page") -> int:
    """A 1-based page number from the query string; anything odd is page 1."""
    value = request.query_params.get(name, "1").strip()
    return min(int(value), MAX_PAGE) if value.isdigit() and int(value) >= 1 else 1


def link_with(request: Request, **changes: str | int | None) -> str:
    """This page's address with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def not_found(what: str) -> HTTPException:
    return HTTPException(404, what)


def render(
    request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    """A reading page from archive/web/templates/reading/, with the viewer in its context."""
    templates = request.app.state.templates
    full = {"viewer": viewer(request), "link_with": lambda **c: link_with(request, **c), **context}
    response: Response = templates.TemplateResponse(
        request, f"{TEMPLATE_DIR}/{template}", full, status_code=status_code
    )
    return response

"""The web application: one Starlette app, its middleware, templates and error pages.

`create_app` puts together the reading pages (archive/web/pages.py) and any extra
routes (bot/web adds the hosting pages and login) behind the same middleware:

- SecurityHeaders on every response (archive/web/security.py);
- a signed session cookie: HttpOnly, SameSite=Strict, Secure when `https_only`,
  expiring after `session_max_age` seconds (checked on the server too);
- templates with autoescaping on (Jinja2), so every tweet text, name and search term is
  shown as text; static files served from this package (nothing from another host);
- 404/403/405/500 pages that say what to do and leak nothing (no tracebacks, no paths).

The reading pages use `request.app.state.read_sessions`, sessions on a read-only engine
(archive/db.make_read_only_engine); hosting pages use `write_sessions`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from archive.web.security import HEADERS, SecurityHeaders, csrf_token, logged_in

__all__ = ["HERE", "create_app", "make_templates"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "tcbot_session"
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_]")
MESSAGES = {
    403: "You are not allowed to do that here.",
    404: "There is nothing at this address. Use the menu above to find your way.",
    405: "That is not something this page can do.",
    500: "Something went wrong on our side. Nothing was changed; try again, and if it "
    "keeps happening, tell whoever looks after tcbot (the details are in its log).",
}


def make_templates(extra_dirs: Sequence[Path] = (), *, zone: ZoneInfo) -> Jinja2Templates:
    """Templates from `extra_dirs` first, then this package's; autoescaped."""
    loader = ChoiceLoader([FileSystemLoader([*map(str, extra_dirs), str(HERE / "templates")])])
    env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
    env.globals.update(csrf_token=csrf_token, logged_in=logged_in, zone=zone)
    env.filters["local"] = lambda moment: _local(moment, zone)
    env.filters["slug"] = _slug
    return Jinja2Templates(env=env)


def _slug(value: object) -> str:
    """An X id or username as a path segment: only letters, digits and underscores kept
    (all a valid one has), so nothing else can reach a URL; much cheaper than urlencode."""
    return _NOT_SLUG.sub("", str(value))


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    """'Wed 2 Dec 2026, 20:00 GMT' in the community's time zone."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def create_app(
    *,
    read_sessions: sessionmaker[Session],
    zone: ZoneInfo,
    secret_key: str,
    write_sessions: sessionmaker[Session] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    extra_template_dirs: Sequence[Path] = (),
    session_max_age: int = 8 * 3600,
    https_only: bool = False,
    state: Mapping[str, Any] | None = None,
) -> Starlette:
    """The whole site: reading pages, `extra_routes`, static files, middleware, errors."""
    from archive.web.pages import reading_routes

    templates = make_templates(extra_template_dirs, zone=zone)
    routes: list[BaseRoute] = [
        *extra_routes,
        *reading_routes(),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware, secret_key=secret_key, session_cookie=SESSION_COOKIE,
            max_age=session_max_age, same_site="strict", https_only=https_only,
        ),
    ]  # fmt: skip

    async def error_page(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status >= 500:
            log.exception("web page %s failed", request.url.path, exc_info=exc)
        detail = exc.detail if isinstance(exc, HTTPException) and status < 500 else ""
        message = detail if detail and detail not in _STOCK else MESSAGES.get(status, "")
        context = {"status": status, "message": message or MESSAGES[404]}
        response = templates.TemplateResponse(request, "error.html", context, status_code=status)
        response.headers.update(HEADERS)  # a 500 is sent from outside the middleware
        return response

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: error_page, Exception: error_page},
    )
    app.state.templates = templates
    app.state.read_sessions = read_sessions
    app.state.write_sessions = write_sessions
    app.state.zone = zone
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    return app


_STOCK = {"Not Found", "Method Not Allowed", "Internal Server Error", "Forbidden"}

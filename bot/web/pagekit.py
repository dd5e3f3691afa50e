"""What every hosting page shares: the login check, CSRF on every POST, messages, redirects.

A hosting endpoint is a plain function `(request, form) -> Response` wrapped in
`hosting(...)`, which first:

- shows how to switch hosting on when TCBOT_WEB_PASSWORD is not set (nothing else);
- sends a browser that has not logged in (or whose login is older than the session's
  maximum age, measured on the injected clock) to /login, changing nothing;
- reads a POST's form and rejects it with 403 unless it carries the session's CSRF
  token (archive/web/security.check_csrf);
- then runs the function in a worker thread (database work blocks), so a slow query
  does not hold up other pages.

After a change the page redirects (303) to a GET page, with a message kept in the
session until that page shows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archive.web.security import LOGIN_KEY, check_csrf
from bot.clock import Clock
from bot.config import Settings

__all__ = [
    "Form",
    "Hosting",
    "field",
    "flash",
    "host",
    "hosting",
    "login_state",
    "redirect",
    "render",
]

Form = Mapping[str, Any]  # a POST's fields (starlette FormData); {} for a GET
FLASH_KEY = "flash"
MAX_MESSAGES = 12  # the session is a cookie: keep what it carries small


@dataclass(frozen=True, slots=True)
class Hosting:
    """What the hosting pages need, kept on app.state.hosting."""

    settings: Settings
    password: str | None  # None: nobody can log in, the hosting pages say how to enable them
    clock: Clock
    session_max_age: int  # seconds a login lasts
    write_sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]


def host(request: Request) -> Hosting:
    found: Hosting = request.app.state.hosting
    return found


def login_state(request: Request) -> str:
    """'in', 'out' or 'expired' (an expired login is forgotten on the spot)."""
    at = request.session.get(LOGIN_KEY)
    if not isinstance(at, (int, float)):
        return "out"
    hosting = host(request)
    age = hosting.clock.now().timestamp() - at
    if 0 <= age < hosting.session_max_age:
        return "in"
    request.session.clear()
    return "expired"


def flash(request: Request, text: str, *, kind: str = "notice") -> None:
    """Keep `text` to show on the next page (kind 'notice' or 'error')."""
    messages = list(request.session.get(FLASH_KEY, []))
    messages.append([kind, text])
    request.session[FLASH_KEY] = messages[-MAX_MESSAGES:]


def redirect(request: Request, path: str, *messages: str, kind: str = "notice") -> Response:
    """303 to `path` (a GET page), showing `messages` there."""
    for text in messages:
        flash(request, text, kind=kind)
    return RedirectResponse(path, status_code=303)


def render(
    request: Request, name: str, context: Mapping[str, Any], *, status: int = 200
) -> Response:
    """Render a template of bot/web/templates with the messages waiting for this page."""
    messages = request.session.pop(FLASH_KEY, [])
    full = {"messages": messages, "errors": [], **context}
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, full, status_code=status
    )
    return response


Endpoint = Callable[[Request], Awaitable[Response]]


def hosting(page: Callable[[Request, Form], Response]) -> Endpoint:
    """Wrap a hosting page: hosting switched on, logged in, CSRF checked on POST."""

    async def endpoint(request: Request) -> Response:
        if host(request).password is None:
            return render(request, "host_off.html", {}, status=403)
        state = login_state(request)
        if state != "in":
            if state == "expired":
                flash(request, "Your login has expired: log in again to go on.")
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        form: Form = {}
        if request.method == "POST":
            form = await request.form()
            check_csrf(request, form)
        return await run_in_threadpool(page, request, form)

    endpoint.__name__ = page.__name__
    endpoint.__doc__ = page.__doc__
    return endpoint


def field(form: Form, name: str) -> str:
    """A form field as text ('' when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""

"""What keeps the web pages safe: headers on every response, CSRF tokens, login state.

- `SecurityHeaders` (pure ASGI middleware) adds a Content-Security-Policy that allows
  nothing from another host and no inline script or style, and X-Content-Type-Options,
  Referrer-Policy, X-Frame-Options and Permissions-Policy, to every response, errors too.
- Sessions are Starlette's signed cookie (HttpOnly, SameSite=Strict, max age set in
  create_app). `csrf_token(request)` is the session's token for forms; `check_csrf`
  rejects a POST whose token is missing or wrong (403).
- `logged_in(request)` says whether this browser has logged in (bot/web sets it).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_KEY = "csrf"
LOGIN_KEY = "login_at"  # when this session logged in (epoch seconds), set by bot/web


class SecurityHeaders:
    """Adds HEADERS to every HTTP response (replacing any the app set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.encode("latin-1") for name in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, form: Mapping[str, object]) -> None:
    """403 unless the form carries this session's CSRF token."""
    expected = request.session.get(CSRF_KEY)
    given = form.get("csrf_token")
    if not isinstance(expected, str) or not isinstance(given, str):
        raise HTTPException(403, "This form has expired. Go back, reload the page and try again.")
    if not secrets.compare_digest(expected, given):
        raise HTTPException(403, "This form has expired. Go back, reload the page and try again.")


def logged_in(request: Request) -> bool:
    return isinstance(request.session.get(LOGIN_KEY), (int, float))

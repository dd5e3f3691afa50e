"""Logging in to host: GET/POST /login, POST /logout, and the limit on wrong passwords.

- There is one password for all hosts (TCBOT_WEB_PASSWORD, bot/web/passwords.py).
  Without it the login page says how to set one, and no login can succeed.
- The login form is CSRF-protected like every other form. A right password stamps the
  session with the login time (archive/web/security.LOGIN_KEY) and gives it a new CSRF
  token, so a token seen before logging in is worth nothing after.
- `LoginThrottle`: after `limit` wrong passwords from one client address within
  `window`, that address gets a 429 page saying when it may try again. Counting is in
  memory (one `tcbot serve` process) on the injected clock; a right password clears
  the address's count. Behind a reverse proxy every browser shares the proxy's
  address, so the limit then applies to all of them together.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from archive.web.security import CSRF_KEY, LOGIN_KEY, check_csrf
from bot.web.pagekit import field, flash, host, login_state, redirect, render
from bot.web.passwords import verify_password

__all__ = ["LoginThrottle", "login_routes", "safe_next"]

log = logging.getLogger(__name__)

MAX_ADDRESSES = 10_000  # addresses remembered at most; the oldest are dropped


class LoginThrottle:
    """Wrong passwords per client address within a sliding window."""

    def __init__(self, *, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def retry_at(self, address: str, *, now: datetime) -> datetime | None:
        """When `address` may try again, or None if it may try now."""
        with self._lock:
            recent = self._recent(address, now)
            if len(recent) < self.limit:
                return None
            return recent[-self.limit] + self.window

    def failed(self, address: str, *, now: datetime) -> None:
        with self._lock:
            recent = self._recent(address, now)
            recent.append(now)
            self._failures[address] = recent
            if len(self._failures) > MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str, now: datetime) -> list[datetime]:
        return [at for at in self._failures.get(address, []) if now - at < self.window]


def safe_next(value: str) -> str:
    """Where to go after logging in: a path on this site, else the queue page."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/host/queue"


async def login_page(request: Request) -> Response:
    hosting = host(request)
    wanted = safe_next(request.query_params.get("next", ""))
    if hosting.password is not None and login_state(request) == "in":
        return RedirectResponse(wanted, status_code=303)
    status = 200 if hosting.password is not None else 403
    return render(request, "host_login.html", {"next": wanted}, status=status)


async def login(request: Request) -> Response:
    hosting = host(request)
    form = await request.form()
    check_csrf(request, form)
    wanted = safe_next(field(form, "next"))
    if hosting.password is None:
        return render(request, "host_login.html", {"next": wanted}, status=403)
    address = request.client.host if request.client else "unknown"
    now = hosting.clock.now()
    if (retry := hosting_throttle(request).retry_at(address, now=now)) is not None:
        return _too_many(request, retry)
    right = await run_in_threadpool(verify_password, hosting.password, field(form, "password"))
    if not right:
        hosting_throttle(request).failed(address, now=now)
        log.warning("a wrong web password from %s", address)
        if (retry := hosting_throttle(request).retry_at(address, now=now)) is not None:
            return _too_many(request, retry)
        errors = ["That password is not right. Check it and try again."]
        return render(request, "host_login.html", {"next": wanted, "errors": errors}, status=403)
    hosting_throttle(request).succeeded(address)
    request.session[LOGIN_KEY] = now.timestamp()
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    log.info("a host logged in from %s", address)
    return redirect(request, wanted, "You are logged in.")


def _too_many(request: Request, retry: datetime) -> Response:
    zone = request.app.state.zone
    local = retry.astimezone(zone)
    text = (
        "Too many wrong passwords from this computer. Try again after "
        f"{local:%H:%M} ({zone.key} time), or ask the person who set TCBOT_WEB_PASSWORD."
    )
    response = render(
        request, "host_login.html", {"next": "/host/queue", "errors": [text]}, status=429
    )
    seconds = max(1, int((retry - host(request).clock.now()).total_seconds()))
    response.headers["retry-after"] = str(seconds)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    request.session.clear()
    flash(request, "You are logged out.")
    return RedirectResponse("/login", status_code=303)


def hosting_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def login_routes() -> list[BaseRoute]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]

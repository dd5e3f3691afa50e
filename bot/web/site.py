"""The whole web site for `tcbot serve`: archive/web's frame and reading pages, plus hosting.

`create_site(settings)` opens the database twice: read-only sessions for the pages
that only read (archive/db.make_read_only_engine) and ordinary ones for the hosting
pages (bot/wiring.open_database, which also brings the schema up to date). Tests
hand in their own sessions, clock and secret. It never builds an X client: the web
server holds no X credentials, and what a host queues is posted by `tcbot run`.

The session cookie's signing key is new on every start unless given, so restarting
`tcbot serve` logs every host out; nothing else depends on it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from archive.db import make_read_only_engine, make_session_factory
from archive.web.app import create_app
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.web.login import LoginThrottle, login_routes
from bot.web.pagekit import Hosting
from bot.web.passwords import check_setting
from bot.web.people_pages import people_routes
from bot.web.queue_pages import queue_routes

__all__ = ["HERE", "SESSION_MAX_AGE", "create_site"]

HERE = Path(__file__).resolve().parent
SESSION_MAX_AGE = 8 * 3600  # a login lasts 8 hours


def create_site(
    settings: Settings,
    *,
    clock: Clock | None = None,
    read_sessions: sessionmaker[Session] | None = None,
    write_sessions: sessionmaker[Session] | None = None,
    secret_key: str | None = None,
    session_max_age: int = SESSION_MAX_AGE,
    https_only: bool = False,
    throttle: LoginThrottle | None = None,
) -> Starlette:
    """The app `tcbot serve` runs; the sessions default to the settings' database."""
    if settings.web_password is not None:
        check_setting(settings.web_password)
    if write_sessions is None:
        from bot import wiring

        write_sessions = wiring.open_database(settings)
    if read_sessions is None:
        read_sessions = make_session_factory(make_read_only_engine(settings.database_url))
    hosting = Hosting(
        settings=settings, password=settings.web_password, clock=clock or SystemClock(),
        session_max_age=session_max_age, write_sessions=write_sessions,
        read_sessions=read_sessions,
    )  # fmt: skip
    routes = [
        *login_routes(),
        *queue_routes(),
        *people_routes(),
        Mount("/host-static", app=StaticFiles(directory=HERE / "static"), name="host-static"),
    ]
    return create_app(
        read_sessions=read_sessions, zone=settings.timezone,
        secret_key=secret_key or secrets.token_urlsafe(32), write_sessions=write_sessions,
        extra_routes=routes, extra_template_dirs=[HERE / "templates"],
        session_max_age=session_max_age, https_only=https_only,
        state={"prices": settings.prices, "hosting": hosting, "settings": settings,
               "login_throttle": throttle or LoginThrottle()},
    )  # fmt: skip
